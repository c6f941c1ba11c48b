// A throwaway Kiln for benchmarks: `npm start`'s launcher on an empty data directory (embedded
// PostgreSQL), an administrator and its API token, and a stop that takes the whole process
// group down (launcher, web, worker) before the directory is removed.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createDb } from "@/db/client";
import { getUserByEmail } from "@/db/queries/users";
import { createUserAsAdmin } from "@/lib/accounts/create-user";
import { SYSTEM } from "@/lib/access/actor";
import { createApiToken } from "@/lib/auth/api-tokens";
import { getProcessEnv } from "@/lib/env";
import { createHost } from "@/lib/hosts/hosts";
import { findFreePort, startEmbeddedPostgres } from "@/lib/runtime/embedded-postgres";

const root = path.resolve(import.meta.dirname, "..");

export type BenchKiln = { base: string; port: number; token: string; email: string; tmp: string; dataDir: string; stop(): Promise<void> };

export async function waitForUrl(url: string, timeoutMs: number, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`the server exited (${child.exitCode})`);
    if (await fetch(url).then((r) => r.status < 500, () => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

export async function startBenchKiln(name: string, env: Record<string, string> = {}): Promise<BenchKiln> {
  const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), `kiln-bench-${name}-`));
  // The embedded PostgreSQL runs as the postgres user when we are root: it must reach its directory.
  await fsp.chmod(tmp, 0o711);
  const dataDir = path.join(tmp, "data");
  const port = await findFreePort();
  const base = `http://127.0.0.1:${port}`;
  const childEnv: NodeJS.ProcessEnv = { ...getProcessEnv(), KILN_DATA_DIR: dataDir, PORT: String(port), KILN_HOST: "127.0.0.1", LOG_LEVEL: "warn", KILN_STORAGE_QUOTA_PER_USER_GB: "10000", ...env, NODE_ENV: "production" };
  delete childEnv.DATABASE_URL;
  const kiln = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], { cwd: root, env: childEnv, stdio: ["ignore", "ignore", "inherit"], detached: true });
  const stop = async () => {
    if (kiln.exitCode === null) {
      try {
        process.kill(-kiln.pid!, "SIGTERM");
      } catch {}
      await new Promise<void>((r) => {
        kiln.once("exit", () => r());
        setTimeout(r, 30_000).unref();
      });
    }
    await fsp.rm(tmp, { recursive: true, force: true }).catch(() => {});
  };
  try {
    await waitForUrl(`${base}/api/health`, 300_000, kiln);
    const pg = await startEmbeddedPostgres(path.join(dataDir, "postgres"), { attachIfRunning: true });
    const { db, close } = createDb(pg.url, { max: 2 });
    const email = "bench@lab.example";
    const created = await createUserAsAdmin(db, { email, password: "quartz lantern orbit 47", name: "", admin: true });
    const user = (await getUserByEmail(db, created.email))!;
    const token = (await createApiToken(db, user.id, { name: "bench" })).token;
    await close();
    return { base, port, token, email, tmp, dataDir, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** One JSON call to the running Kiln's API; throws with the answer unless the status is `expect`. */
export async function benchApi<T = any>(k: BenchKiln, method: string, urlPath: string, body: unknown, expect: number): Promise<T> {
  const res = await fetch(`${k.base}${urlPath}`, {
    method,
    headers: { authorization: `Bearer ${k.token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== expect) throw new Error(`${method} ${urlPath}: ${res.status} ${text.slice(0, 500)}`);
  return (text ? JSON.parse(text) : null) as T;
}

/** A locally administered MAC for the i-th bench host (02:b0:07:…), as bench:boot-storm numbers them. */
export function benchMac(i: number): string {
  return `02:b0:07:${((i >> 16) & 255).toString(16).padStart(2, "0")}:${((i >> 8) & 255).toString(16).padStart(2, "0")}:${(i & 255).toString(16).padStart(2, "0")}`;
}

/** Registers `count` hosts straight through lib/hosts (50 at a time; the API would take minutes); their ids and MACs. */
export async function seedBenchHosts(k: BenchKiln, count: number, prefix = "bench"): Promise<{ ids: string[]; macs: string[] }> {
  const pg = await startEmbeddedPostgres(path.join(k.dataDir, "postgres"), { attachIfRunning: true });
  const { db, close } = createDb(pg.url, { max: 8 });
  const ids: string[] = [];
  const macs = Array.from({ length: count }, (_, i) => benchMac(i));
  try {
    for (let i = 0; i < count; i += 50) {
      const batch = await Promise.all(macs.slice(i, i + 50).map((mac, j) => createHost(db, SYSTEM, { name: `${prefix}-${String(i + j).padStart(5, "0")}`, interfaces: [{ mac }] })));
      ids.push(...batch.map((h) => h.id));
    }
  } finally {
    await close();
  }
  return { ids, macs };
}

/** The pid of the process listening on the bench Kiln's port (the web process, not the launcher), from `ss`. */
export function benchWebPid(k: BenchKiln): number {
  const out = execFileSync("ss", ["-Hltnp", `sport = :${k.port}`], { encoding: "utf8" });
  const pid = /pid=(\d+)/.exec(out)?.[1];
  if (!pid) throw new Error(`no process listens on :${k.port} (ss said: ${out.trim() || "nothing"})`);
  return Number(pid);
}
