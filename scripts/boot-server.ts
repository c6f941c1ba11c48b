// `npm run boot-server`: the machines' plane alone (lib/boot-server/server.ts), for a site
// away from the portal, or started by `npm start` beside the web and worker processes.
// Needs DATABASE_URL and the portal's KILN_SECRET_KEY (runs' tokens are derived from it);
// listens on KILN_BOOT_PORT (default PORT + 1) and serves KILN_SITE (docs/topology.md).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { answerBootRequest } from "@/lib/boot/boot-service";
import { listenBootServer } from "@/lib/boot-server/server";
import { RequestStats } from "@/lib/boot-server/stats";
import { getAppDb } from "@/lib/db";
import { getEnv } from "@/lib/env";
import { getLogger } from "@/lib/log";

const log = getLogger("boot-server");

function fail(message: string): never {
  process.stderr.write(`[kiln boot-server] ${message}\n`);
  process.exit(1);
}

let env;
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

const db = getAppDb();
const stats = new RequestStats();
const answers = { answer: (req: { mac: string; hostnameHint: string | null; sourceIp: string | null }) => answerBootRequest(db, req) };
const name = env.KILN_BOOT_SERVER_NAME ?? `${os.hostname()}:${env.bootPort}`;

let server: import("node:http").Server;
try {
  server = await listenBootServer({ db, answers, stats, bootUrl: env.bootUrl, ramdiskDir: env.ramdiskDir, portalUrl: env.portalUrl, host: env.KILN_HOST, port: env.bootPort });
} catch (e) {
  const err = e as NodeJS.ErrnoException;
  fail(err.code === "EADDRINUSE" ? `port ${env.bootPort} is already in use; set KILN_BOOT_PORT to another port` : `the boot server could not listen: ${err.message}`);
}
log.info({ name, site: env.KILN_SITE, port: env.bootPort, bootUrl: env.bootUrl }, "boot server listening");
process.send?.({ type: "listening" });

let stopping = false;
function stop(signal: string): void {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, "boot server stopping");
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 5_000).unref();
}
process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGINT", () => stop("SIGINT"));
// Started by the launcher with an IPC channel: if the launcher dies, so do we.
process.on("disconnect", () => stop("launcher gone"));
