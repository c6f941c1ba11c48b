// `npm run boot-server`: the machines' plane alone (lib/boot-server/server.ts), for a site
// away from the portal, or started by `npm start` beside the web and worker processes.
// Needs DATABASE_URL and the portal's KILN_SECRET_KEY (runs' tokens are derived from it);
// listens on KILN_BOOT_PORT (default PORT + 1) and serves KILN_SITE (docs/topology.md).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { localBootScript } from "@/boot/scripts";
import type { SiteRow } from "@/db/schema";
import { badMacAnswer } from "@/lib/boot/boot-service";
import { describeEfiLocalBoot, ensureEfiLocalBoot } from "@/lib/boot/efi-local-boot";
import { BootAnswers } from "@/lib/boot-server/answers";
import { ConsoleHub } from "@/lib/console/hub";
import { ConsoleRecorder, resolveFromDb } from "@/lib/console/recorder";
import { createConsoleUpgrade } from "@/lib/console/upgrade";
import { listenBootServer, type BootAnswerSource } from "@/lib/boot-server/server";
import { RequestStats } from "@/lib/boot-server/stats";
import { createPiTftpResolver } from "@/lib/pi/pi-tftp";
import { TftpServer } from "@/lib/tftp/server";
import { getAppDb } from "@/lib/db";
import { getEnv, type Env } from "@/lib/env";
import { isAppError } from "@/lib/errors";
import { normalizeMac } from "@/lib/validation/mac";
import { getLogger } from "@/lib/log";
import { isPostgresJsWriteAfterClose } from "@/lib/runtime/postgres-js-fault";
import { projectPath } from "@/lib/runtime/project-root";
import { ensureSite, recordBootServerHeartbeat, recordBootServerStopped } from "@/lib/sites/sites";

const HEARTBEAT_MS = 10_000;

const log = getLogger("boot-server");
const KILN_VERSION: string = JSON.parse(fs.readFileSync(projectPath("package.json"), "utf8")).version ?? "unknown";

// Machines keep being answered while PostgreSQL is away; a known postgres.js fault when the
// server drops connections must not take this process down (lib/runtime/postgres-js-fault.ts).
process.on("uncaughtException", (err) => {
  if (isPostgresJsWriteAfterClose(err)) return void log.warn({ err: err.message }, "postgres.js wrote to a closed connection (known fault, ignored)");
  log.fatal({ err }, "uncaught exception; the boot server stops");
  process.exit(1);
});

function fail(message: string): never {
  process.stderr.write(`[kiln boot-server] ${message}\n`);
  process.exit(1);
}

let env: Env;
try {
  env = getEnv();
} catch (e) {
  fail((e as Error).message);
}
if (!env.DATABASE_URL) fail("DATABASE_URL is not set: a boot server reads the portal's database (npm start sets it; see docs/topology.md).");
if (!env.KILN_SECRET_KEY) fail("KILN_SECRET_KEY is not set: copy the portal's (its data directory's secret-key file), since runs' tokens are derived from it.");
if (!fs.existsSync(path.join(env.ramdiskDir, "vmlinuz"))) {
  log.warn({ dir: env.ramdiskDir }, "no deploy ramdisk here: deploys, captures and wipes through this boot server fail until `npm run ramdisk` builds it");
}

// Built (or found in the cache) before the first machine asks; its absence is said once, here.
const efiLocalBoot = await ensureEfiLocalBoot();
if (efiLocalBoot.ok) log.info({ file: efiLocalBoot.file, cached: efiLocalBoot.cached }, describeEfiLocalBoot(efiLocalBoot));
else log.warn(efiLocalBoot.reason);

const db = getAppDb();
const stats = new RequestStats();
const name = env.KILN_BOOT_SERVER_NAME ?? `${os.hostname()}:${env.bootPort}`;

// Until the database has been reached once (this server may start during an outage), every
// machine boots its disk, as an unknown machine would while PostgreSQL is away.
let site: SiteRow | null = null;
let answers: BootAnswers | null = null;
const source: BootAnswerSource = {
  answer: (req) => (answers ? answers.answer(req) : normalizeMac(req.mac) ? { status: 200, contentType: "text/plain; charset=utf-8", body: localBootScript() } : badMacAnswer(req.mac)),
};

/** Joins the site (created on first use) and starts the answers; false while the database cannot be reached. */
async function tryConnect(): Promise<boolean> {
  try {
    // A KILN_BOOT_URL given here becomes a new site's boot URL (never over an admin's choice).
    const joined = await ensureSite(db, env.KILN_SITE, { bootUrl: env.KILN_BOOT_URL ?? null });
    const ready = new BootAnswers({ db, databaseUrl: env.DATABASE_URL!, siteId: joined.id });
    await ready.start();
    site = joined;
    answers = ready;
    return true;
  } catch (e) {
    if (isAppError(e)) fail(`KILN_SITE ${env.KILN_SITE}: ${e.message}`);
    log.debug({ err: (e as Error).message }, "database not reachable");
    return false;
  }
}

// Normally the database answers at once and the server listens ready; if it is away, the
// server listens anyway (every machine boots its disk) and keeps trying every 2 s.
const connectedAtStart = await tryConnect();
const connected: Promise<void> = connectedAtStart
  ? Promise.resolve()
  : (async () => {
      log.warn("the database cannot be reached yet; every machine boots its disk until it can");
      while (!(await tryConnect())) await new Promise((r) => setTimeout(r, 2_000));
      log.info({ site: env.KILN_SITE }, "database reached; answering from it");
    })();

// Serial consoles: one attachment per machine, shared by the people watching it and by the
// recorder that keeps each run's last console lines (lib/console/recorder.ts).
const consoles = new ConsoleHub({ resolve: resolveFromDb(db) });
const recorder = new ConsoleRecorder({ db, hub: consoles, siteId: () => site?.id ?? null });
const consoleUpgrade = createConsoleUpgrade({ db, hub: consoles });

let server: import("node:http").Server;
try {
  // The chain script points machines back at their site's boot URL, once known.
  server = await listenBootServer({ db, answers: source, stats, bootUrl: () => site?.bootUrl ?? env.bootUrl, ramdiskDir: env.ramdiskDir, mediaDir: env.mediaDir, portalUrl: env.portalUrl, host: env.KILN_HOST, port: env.bootPort, onUpgrade: consoleUpgrade });
} catch (e) {
  const err = e as NodeJS.ErrnoException;
  fail(err.code === "EADDRINUSE" ? `port ${env.bootPort} is already in use; set KILN_BOOT_PORT to another port` : `the boot server could not listen: ${err.message}`);
}
log.info({ name, site: env.KILN_SITE, port: env.bootPort, connected: connectedAtStart }, "boot server listening");

// Raspberry Pis ask TFTP for `<serial>/<file>` (docs/raspberry-pi.md). Optional: a port Kiln
// cannot take (69 without root, or another TFTP server there) is said once and the HTTP plane
// carries on. While the database is away, every Pi request is refused and the Pi retries.
let tftp: TftpServer | null = null;
if (env.KILN_TFTP_PORT !== "off") {
  const candidate = new TftpServer({
    host: env.KILN_TFTP_HOST ?? env.KILN_HOST,
    port: env.KILN_TFTP_PORT,
    resolve: createPiTftpResolver({ db, siteId: () => site?.id ?? null }),
    onTransfer: (t) => log.debug(t, "tftp transfer"),
  });
  try {
    const at = await candidate.listen();
    tftp = candidate;
    log.info({ address: at.address, port: at.port }, "TFTP for Raspberry Pis listening");
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    log.warn({ port: env.KILN_TFTP_PORT, err: err.message }, `TFTP for Raspberry Pis is off: port ${env.KILN_TFTP_PORT} ${err.code === "EACCES" ? "needs root (or CAP_NET_BIND_SERVICE)" : err.code === "EADDRINUSE" ? "is taken (another TFTP server?)" : "could not be bound"}; set KILN_TFTP_PORT (or off)`);
  }
}
process.send?.({ type: "listening" });

// Heartbeats for the admin console (Sites & boot servers): one upsert every 10 s. A beat that
// fails (database away) is skipped; the next one reports the whole interval since the last.
const startedAt = new Date();
let stopping = false;
let lastHits = 0;
// What beats that could not be written covered, so the next one reports the whole interval.
let owed = { seconds: 0, requests: 0, errors: 0, fromMemory: 0 };
const beat = async (ready: BootAnswers, siteId: string) => {
  const w = stats.take();
  const a = ready.stats();
  const interval = { seconds: owed.seconds + w.seconds, requests: owed.requests + w.requests, errors: owed.errors + w.errors, fromMemory: owed.fromMemory + a.hits - lastHits };
  lastHits = a.hits;
  owed = { seconds: 0, requests: 0, errors: 0, fromMemory: 0 };
  await recordBootServerHeartbeat(db, {
    name,
    siteId,
    url: env.bootUrl,
    version: KILN_VERSION,
    pid: process.pid,
    startedAt,
    intervalSeconds: interval.seconds,
    requests: interval.requests,
    errors: interval.errors,
    answeredFromMemory: interval.fromMemory,
    p99Ms: w.p99Ms,
    totalRequests: stats.totalRequests,
    totalErrors: stats.totalErrors,
    dbReachable: a.databaseUp,
  }).catch((e) => {
    owed = interval;
    log.debug({ err: (e as Error).message }, "heartbeat not recorded");
  });
};
let heartbeat: NodeJS.Timeout | undefined;
void connected.then(() => {
  if (stopping || !answers || !site) return;
  const [ready, siteId] = [answers, site.id];
  void beat(ready, siteId);
  heartbeat = setInterval(() => void beat(ready, siteId), HEARTBEAT_MS);
  heartbeat.unref();
  // Only once the site is known: it records the runs of this site's machines, no other's.
  recorder.start();
});

function stop(signal: string): void {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, "boot server stopping");
  clearInterval(heartbeat);
  setTimeout(() => process.exit(0), 5_000).unref();
  consoleUpgrade.close();
  void tftp?.close();
  server.closeIdleConnections();
  server.close(() => {
    // What the answers still owe the database (last seen, discoveries, boots), then say we stopped.
    if (!answers) return process.exit(0);
    void recorder
      .stop()
      .catch(() => {})
      .then(() => consoles.closeAll())
      .then(() => answers!.stop())
      .then(() => recordBootServerStopped(db, name))
      .catch(() => {})
      .finally(() => process.exit(0));
  });
}
process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGINT", () => stop("SIGINT"));
// Started by the launcher with an IPC channel: if the launcher dies, so do we.
process.on("disconnect", () => stop("launcher gone"));
