// `npm run bench:boot-storm`: a rack network-booting at once. Concurrent clients request
// /boot/<mac> for 1,000 registered hosts from a running Kiln (npm start on a throwaway
// data directory), and — in the same run, with the same client — the same rendered
// local-boot script served as a static file by nginx (Debian's nginx-light), the
// fastest an HTTP server can answer. Prints requests/s, p50 and p99 side by side and
// the ratio. Not a test: numbers depend on the machine (see bench/README.md).
//
// Options: --hosts 1000 --requests 20000 --concurrency 64
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { createDb } from "@/db/client";
import { SYSTEM } from "@/lib/access/actor";
import { getProcessEnv } from "@/lib/env";
import { createHost } from "@/lib/hosts/hosts";
import { findFreePort, startEmbeddedPostgres } from "@/lib/runtime/embedded-postgres";

const root = path.resolve(import.meta.dirname, "..");

function options() {
  const { values } = parseArgs({ options: { hosts: { type: "string", default: "1000" }, requests: { type: "string", default: "20000" }, concurrency: { type: "string", default: "64" } } });
  return { hosts: Number(values.hosts), requests: Number(values.requests), concurrency: Number(values.concurrency) };
}

function macOf(i: number): string {
  return `02:b0:07:${((i >> 16) & 255).toString(16).padStart(2, "0")}:${((i >> 8) & 255).toString(16).padStart(2, "0")}:${(i & 255).toString(16).padStart(2, "0")}`;
}

async function waitForUrl(url: string, timeoutMs: number, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`the server exited (${child.exitCode})`);
    const ok = await fetch(url).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

/** `concurrency` keep-alive clients issue `total` GETs between them; latencies in ms. */
async function hammer(port: number, paths: string[], total: number, concurrency: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const started = process.hrtime.bigint();
  const one = (p: string) =>
    new Promise<void>((resolve) => {
      const t0 = process.hrtime.bigint();
      const req = http.get({ host: "127.0.0.1", port, path: p, agent }, (res) => {
        res.resume();
        res.on("end", () => {
          if (res.statusCode !== 200) errors++;
          latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
          resolve();
        });
      });
      req.on("error", () => {
        errors++;
        resolve();
      });
    });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        await one(paths[i % paths.length]!);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
  return { rps: total / seconds, p50: q(0.5), p99: q(0.99), errors, seconds };
}

async function main(): Promise<void> {
  const opt = options();
  if (!existsSync("/usr/sbin/nginx")) {
    console.error("nginx is missing: run `bash scripts/ensure-deps.sh --bench` (installs nginx-light).");
    process.exit(1);
  }
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-boot-storm-"));
  await fs.chmod(tmp, 0o711);
  const dataDir = path.join(tmp, "data");
  const port = await findFreePort();
  const children: ChildProcess[] = [];
  try {
    console.log(`starting Kiln (npm start) on :${port} with an empty data directory…`);
    const env: NodeJS.ProcessEnv = { ...getProcessEnv(), KILN_DATA_DIR: dataDir, PORT: String(port), KILN_HOST: "127.0.0.1", LOG_LEVEL: "warn", NODE_ENV: "production" };
    delete env.DATABASE_URL;
    const kiln = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], { cwd: root, env, stdio: ["ignore", "ignore", "inherit"], detached: true });
    children.push(kiln);
    await waitForUrl(`http://127.0.0.1:${port}/api/health`, 300_000, kiln);

    console.log(`registering ${opt.hosts} hosts…`);
    const pg = await startEmbeddedPostgres(path.join(dataDir, "postgres"), { attachIfRunning: true });
    const { db, close } = createDb(pg.url, { max: 8 });
    for (let i = 0; i < opt.hosts; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, opt.hosts - i) }, (_, k) => createHost(db, SYSTEM, { name: `storm-${String(i + k).padStart(5, "0")}`, interfaces: [{ mac: macOf(i + k) }] })),
      );
    }
    await close();

    // nginx serves the very bytes Kiln answers for an idle host.
    const sample = await (await fetch(`http://127.0.0.1:${port}/boot/${macOf(0).replace(/:/g, "-")}`)).text();
    const www = path.join(tmp, "www");
    await fs.mkdir(www);
    await fs.writeFile(path.join(www, "boot.ipxe"), sample);
    const nginxPort = await findFreePort();
    const conf = path.join(tmp, "nginx.conf");
    await fs.writeFile(
      conf,
      `worker_processes 1;\nerror_log ${tmp}/nginx-error.log;\npid ${tmp}/nginx.pid;\nevents { worker_connections 1024; }\nhttp {\n  access_log off;\n  default_type text/plain;\n  client_body_temp_path ${tmp}/nginx-tmp;\n  server {\n    listen 127.0.0.1:${nginxPort};\n    root ${www};\n    location /boot/ { try_files /boot.ipxe =404; }\n  }\n}\n`,
    );
    const nginx = spawn("/usr/sbin/nginx", ["-c", conf, "-g", "daemon off;"], { stdio: "inherit" });
    children.push(nginx);
    await waitForUrl(`http://127.0.0.1:${nginxPort}/boot/x`, 10_000, nginx);

    const paths = Array.from({ length: opt.hosts }, (_, i) => `/boot/${macOf(i).replace(/:/g, "-")}`);
    console.log(`warming up…`);
    await hammer(port, paths, Math.min(2000, opt.requests), opt.concurrency);
    await hammer(nginxPort, paths, Math.min(2000, opt.requests), opt.concurrency);

    console.log(`${opt.requests} requests from ${opt.concurrency} keep-alive clients over ${opt.hosts} MACs:`);
    const k = await hammer(port, paths, opt.requests, opt.concurrency);
    const n = await hammer(nginxPort, paths, opt.requests, opt.concurrency);
    const row = (name: string, r: typeof k) =>
      `${name.padEnd(28)} ${r.rps.toFixed(0).padStart(8)} req/s   p50 ${r.p50.toFixed(2).padStart(7)} ms   p99 ${r.p99.toFixed(2).padStart(7)} ms   errors ${r.errors}`;
    console.log(row("Kiln /boot/<mac>", k));
    console.log(row("nginx static file (baseline)", n));
    console.log(`ratio Kiln/nginx: throughput ${(k.rps / n.rps).toFixed(3)}, p99 latency ${(k.p99 / n.p99).toFixed(1)}×`);
    console.log(`(cores: ${os.cpus().length}; client, Kiln, PostgreSQL and nginx share them)`);
  } finally {
    // nginx first, then Kiln's whole process group (launcher, web, worker, PostgreSQL).
    const [kiln, ...rest] = children;
    for (const c of [...rest, kiln].filter((c): c is ChildProcess => Boolean(c))) {
      if (c.exitCode !== null) continue;
      try {
        process.kill(c === kiln ? -c.pid! : c.pid!, "SIGTERM");
      } catch {}
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 3000));
    await fs.rm(tmp, { recursive: true, force: true }).catch(() => {});
  }
}

main().catch((e) => {
  console.error(`boot-storm failed: ${(e as Error).message}`);
  process.exit(1);
});
