// `npm start` (and `npm run dev`): the whole portal in one command. Opens the database
// (embedded PostgreSQL unless DATABASE_URL is set), applies migrations, makes sure the deploy
// ramdisk is built, builds the web app if needed, starts the web and worker processes, and
// prints the URL. Ctrl-C or
// SIGTERM stops the children first, then the embedded database.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { getEnv, getProcessEnv, setEnvForProcess } from "@/lib/env";
import { isBuildFresh } from "@/lib/runtime/build";
import { openRuntimeDatabase, type RuntimeDatabase } from "@/lib/runtime/database";
import { ensureSecret } from "@/lib/runtime/secret";
import { localOrigin } from "@/lib/boot-server/proxy";
import { bootStartLines } from "@/lib/sites/boot-url-check";
import type { PrepareMessage } from "./prepare";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dev = process.argv.includes("--dev");

function say(line: string): void {
  process.stdout.write(`[kiln] ${line}\n`);
}

function fail(message: string): never {
  process.stderr.write(`[kiln] ${message}\n`);
  process.exit(1);
}

function run(cmd: string, args: string[], extraEnv: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: root, stdio: "inherit", env: { ...getProcessEnv(), ...extraEnv } });
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${path.basename(cmd)} ${args.join(" ")} exited with ${code}`))));
  });
}

// Run from the bundle (.build/start.mjs, what `npm start` runs: scripts/launch.mjs), the
// children run from theirs too, on plain Node; from the sources (`npm run dev`, the lab), with tsx.
const bundled = fileURLToPath(import.meta.url).endsWith(".mjs");

/** The bundle name of each supervised process (scripts/bundle.mjs). */
const BUNDLE_OF: Record<string, string> = { "scripts/boot-server.ts": "boot-server", "scripts/web.ts": "web", "workers/index.ts": "worker", "scripts/prepare.ts": "prepare" };

function startChild(file: string, args: string[] = []): ChildProcess {
  const entry = bundled ? ["--enable-source-maps", path.join(root, ".build", `${BUNDLE_OF[file]}.mjs`)] : ["--import", "tsx", file];
  // Own process group: a terminal Ctrl-C reaches only this launcher, which then stops
  // the children in order. The IPC channel lets a child notice if the launcher dies.
  return spawn(process.execPath, [...entry, ...args], {
    cwd: root,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    env: getProcessEnv(),
    detached: true,
  });
}

/** Runs scripts/prepare.ts to its end, printing what it says; resolves with the setup link. */
function runPrepare(): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const child = startChild("scripts/prepare.ts");
    let outcome: PrepareMessage | null = null;
    child.on("message", (m: PrepareMessage) => {
      if (m.type === "say") say(m.line);
      else outcome = m;
    });
    child.once("exit", (code, signal) => {
      const o = outcome as PrepareMessage | null;
      if (o?.type === "done") return resolve(o.setupLink);
      reject(new Error(o?.type === "failed" ? o.message : `Preparing the database ended early (${signal ?? `code ${code}`})`));
    });
  });
}

/** What `npm run lab` (scripts/lab.ts) adds to this same launcher; `npm start` passes none. */
export type LauncherHooks = {
  /** After migrations and templates, with DATABASE_URL and the secrets set; before the web and worker start. */
  prepare?: () => Promise<void>;
  /** Once the web server listens, after the URL and setup link are printed. */
  ready?: () => Promise<void>;
  /** First thing on Ctrl-C or SIGTERM, while the web and worker still run. */
  beforeStop?: () => Promise<void>;
};

export async function startKiln(hooks: LauncherHooks = {}): Promise<void> {
  let env;
  try {
    env = getEnv();
  } catch (e) {
    fail((e as Error).message);
  }
  await fs.mkdir(env.dataDir, { recursive: true });

  let db: RuntimeDatabase;
  try {
    say(env.DATABASE_URL ? "connecting to DATABASE_URL…" : `starting the embedded PostgreSQL in ${path.join(env.dataDir, "postgres")}…`);
    db = await openRuntimeDatabase(env);
  } catch (e) {
    fail((e as Error).message);
  }

  const children: ChildProcess[] = [];
  let stopping = false;
  const shutdown = async (code: number, why: string) => {
    if (stopping) return;
    stopping = true;
    say(`stopping (${why})…`);
    await hooks.beforeStop?.().catch((e) => process.stderr.write(`[kiln] ${(e as Error).message}\n`));
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            c.once("exit", () => resolve());
            c.kill("SIGTERM");
            setTimeout(() => {
              c.kill("SIGKILL");
              resolve();
            }, 15_000).unref();
          }),
      ),
    );
    await db.stop().catch((e) => process.stderr.write(`[kiln] stopping the embedded PostgreSQL failed: ${(e as Error).message}\n`));
    say("stopped.");
    process.exit(code);
  };
  process.on("SIGINT", () => void shutdown(0, "SIGINT"));
  process.on("SIGTERM", () => void shutdown(0, "SIGTERM"));
  // `npm start` runs us under `sh -c`, which dies on SIGTERM without passing it on;
  // being re-parented means whoever started us is gone, so stop as if signalled.
  const parent = process.ppid;
  setInterval(() => process.ppid !== parent && void shutdown(0, "parent process exited"), 1000).unref();

  setEnvForProcess({
    DATABASE_URL: db.url,
    AUTH_SECRET: await ensureSecret(env.dataDir, "auth-secret", env.AUTH_SECRET),
    KILN_SECRET_KEY: await ensureSecret(env.dataDir, "secret-key", env.KILN_SECRET_KEY),
    KILN_DATA_DIR: env.dataDir,
    NODE_ENV: dev ? "development" : "production",
    // The boot server forwards capture uploads to the portal on this machine, not out through a proxy.
    KILN_PORTAL_URL: env.KILN_PORTAL_URL ?? localOrigin(env.KILN_HOST, env.PORT),
  });

  // Migrations, templates, ramdisk, setup link: in a process of its own (scripts/prepare.ts).
  let setupLink: string | null = null;
  try {
    setupLink = await runPrepare();
  } catch (e) {
    await db.stop().catch(() => {});
    fail((e as Error).message);
  }

  try {
    await hooks.prepare?.();
  } catch (e) {
    await db.stop().catch(() => {});
    fail((e as Error).message);
  }

  if (!dev && !isBuildFresh(root)) {
    say("building the web app (first start or changed sources; takes a minute or two)…");
    try {
      await run(process.execPath, [path.join(root, "node_modules/next/dist/bin/next"), "build"], {});
    } catch (e) {
      await db.stop().catch(() => {});
      fail(`Building the web app failed: ${(e as Error).message}`);
    }
  }

  // Supervised like a service manager would (Restart=on-failure): a crashed web or worker
  // process is started again, so machines mid-deploy see a short outage, not a dead portal
  // (the deploy agent resumes its download with Range). A child that keeps crashing — five
  // times within a minute — stops the portal instead of looping. Each child's pid is in
  // KILN_DATA_DIR/run/<name>.pid for operators (and the tests that restart the web server).
  const runDir = path.join(env.dataDir, "run");
  await fs.mkdir(runDir, { recursive: true });
  const crashes: Record<string, number[]> = { web: [], worker: [], boot: [] };
  const supervise = (name: "web" | "worker" | "boot", file: string, args: string[] = []): ChildProcess => {
    const child = startChild(file, args);
    children.push(child);
    void fs.writeFile(path.join(runDir, `${name}.pid`), `${child.pid}\n`).catch(() => {});
    child.on("exit", (code, signal) => {
      children.splice(children.indexOf(child), 1);
      if (stopping) return;
      const now = Date.now();
      crashes[name] = [...crashes[name]!.filter((t) => now - t < 60_000), now];
      const why = `the ${name} process exited unexpectedly (${signal ?? `code ${code}`})`;
      if (crashes[name]!.length >= 5) return void shutdown(1, `${why}, five times within a minute`);
      say(`${why}; starting it again`);
      const again = supervise(name, file, args);
      if (name !== "worker") again.on("message", (m: { type?: string }) => m?.type === "listening" && say(`the ${name} process is back`));
    });
    return child;
  };
  // The machines' plane first: machines never wait on the portal (lib/boot-server/server.ts).
  const listening = (child: ChildProcess) => new Promise<void>((resolve) => child.on("message", (m: { type?: string }) => m?.type === "listening" && resolve()));
  const boot = supervise("boot", "scripts/boot-server.ts");
  const web = supervise("web", "scripts/web.ts", dev ? ["--dev"] : []);
  supervise("worker", "workers/index.ts");

  await Promise.all([listening(boot), listening(web)]);
  const { baseUrl: url, bootUrl, bootPort, KILN_BOOT_URL } = getEnv();
  say(`Kiln is running at ${url}`);
  for (const line of bootStartLines({ baseUrl: url, bootUrl, bootPort, isBootUrlSet: Boolean(KILN_BOOT_URL) })) say(line);
  if (setupLink) {
    say("No administrator exists yet. Open this one-time link to create the first one:");
    say(`  ${setupLink}`);
  }
  await hooks.ready?.();
  say("Press Ctrl-C to stop.");
}

/** The launcher as `npm start` runs it (scripts/launch.mjs). */
export function runLauncher(): void {
  startKiln().catch((e) => fail(`Kiln failed to start: ${(e as Error).message}`));
}

// Run as `node --import tsx scripts/start.ts` (npm run dev), not when imported by scripts/lab.ts.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) runLauncher();
