// One file: one bench script read top to bottom; its three measurements share the process, wrk
// and /proc helpers above them, and nothing else imports them.
// `npm run bench:machine-plane`: issue 13's measurements of the machine plane (the boot server,
// lib/boot-server/), each printed next to a baseline measured in the same run. Not a test:
// nothing fails on a slow result; it prints each target and whether this run met it.
//
//   1. Throughput. `npm start` (scripts/launch.mjs: bundled processes on plain Node, embedded
//      PostgreSQL, a fresh data directory) with N hosts, 10 % of them marked for reinstall.
//      Debian's wrk drives /boot/<mac> (a Lua script picks one of the N MACs per request) on the
//      boot server's port, the same through the portal's port (the web process forwards machine
//      paths: lib/boot-server/proxy.ts), and nginx (one worker) serving the very bytes Kiln
//      answered for each MAC as static files; /boot/chain.ipxe against a bare node:http server
//      answering the same bytes. Rows alternate, round after round, so drift hits both sides.
//   2. Memory. RSS of each Node process of `npm start` after 60 s idle (launcher, web, worker,
//      boot server) and, apart, the embedded PostgreSQL's; then a wrk storm on the boot server
//      (10 minutes by default) sampling its RSS every 10 s: first, last, max and the slope.
//      Optionally (--web-flags, or by itself when the Node total is over 450 MiB) standalone web
//      processes with Node flags, to see what the flags change in RSS and in page req/s.
//   3. Two sites. A private embedded PostgreSQL and two bundled boot servers (.build/boot-server.mjs,
//      KILN_SITE a and b, two ports): a machine discovered through b joins site b; a mark made
//      through lib (markForReinstall, as the portal does) is seen by both, polled every 10 ms
//      (20 times: p50, max); PostgreSQL stopped: both answer known machines for 10 s (answers,
//      errors); started again: a new mark is seen by both, with no step by anyone.
//
// Options: --hosts 1000 --marked 0.1 --threads 2 --connections 64 --duration 5 --rounds 3
//          --storm-minutes 10 --idle-seconds 60 --quick (storm 1 min, 2 rounds of 3 s, idle 30 s)
//          --web-flags=--max-semi-space-size=1 (repeatable; with "=", the value starts with a dash)
//          --node-options="--max-old-space-size=96" (NODE_OPTIONS for every process npm start runs)
//          --skip-throughput --skip-memory --skip-sites
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import fs from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { createDb, type Db } from "@/db/client";
import { findHostByMac } from "@/db/queries/boot";
import { getUserByEmail } from "@/db/queries/users";
import { createUserAsAdmin } from "@/lib/accounts/create-user";
import { actorOf, type Actor } from "@/lib/access/actor";
import { markForReinstall, updateBootSettings } from "@/lib/boot/boot-settings";
import { getProcessEnv, setEnvForProcess } from "@/lib/env";
import { createHost } from "@/lib/hosts/hosts";
import { stopJobSender } from "@/lib/jobs/enqueue";
import { createLease } from "@/lib/leases/leases";
import { addProjectMember, createProject } from "@/lib/projects/projects";
import { isBuildFresh } from "@/lib/runtime/build";
import { findFreePort, startEmbeddedPostgres, type EmbeddedPostgresHandle } from "@/lib/runtime/embedded-postgres";
import { runMigrations } from "@/lib/runtime/migrations";
import { ensureSite, listBootServers } from "@/lib/sites/sites";
import { stopRenderPool } from "@/lib/templates/render-pool";
import { listTemplates, syncBuiltinTemplates } from "@/lib/templates/templates";

const root = path.resolve(import.meta.dirname, "..");
const MiB = 1024 * 1024;

function options() {
  const { values } = parseArgs({
    options: {
      hosts: { type: "string", default: "1000" },
      marked: { type: "string", default: "0.1" },
      threads: { type: "string", default: "2" },
      connections: { type: "string", default: "64" },
      duration: { type: "string" },
      rounds: { type: "string" },
      "storm-minutes": { type: "string" },
      "idle-seconds": { type: "string" },
      quick: { type: "boolean", default: false },
      "web-flags": { type: "string", multiple: true },
      "node-options": { type: "string" },
      "skip-throughput": { type: "boolean", default: false },
      "skip-memory": { type: "boolean", default: false },
      "skip-sites": { type: "boolean", default: false },
    },
  });
  const q = values.quick;
  return {
    hosts: Number(values.hosts),
    marked: Number(values.marked),
    threads: Number(values.threads),
    connections: Number(values.connections),
    duration: Number(values.duration ?? (q ? 3 : 5)),
    rounds: Number(values.rounds ?? (q ? 2 : 3)),
    stormMinutes: Number(values["storm-minutes"] ?? (q ? 1 : 10)),
    idleSeconds: Number(values["idle-seconds"] ?? (q ? 30 : 60)),
    webFlags: values["web-flags"] ?? null,
    nodeOptions: values["node-options"] ?? null,
    throughput: !values["skip-throughput"],
    memory: !values["skip-memory"],
    sites: !values["skip-sites"],
  };
}
type Options = ReturnType<typeof options>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : "—");
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : NaN;
};
const met = (ok: boolean) => (ok ? "met" : "NOT met");
const macOf = (i: number) => `02:b0:07:${((i >> 16) & 255).toString(16).padStart(2, "0")}:${((i >> 8) & 255).toString(16).padStart(2, "0")}:${(i & 255).toString(16).padStart(2, "0")}`;
const dashed = (mac: string) => mac.replace(/:/g, "-");
const uptime = () => execFileSync("uptime", { encoding: "utf8" }).trim();

async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>, child?: ChildProcess, output?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`${what}: the process exited (${child.exitCode})\n${output?.().slice(-3000) ?? ""}`);
    if (await check().catch(() => false)) return;
    await sleep(200);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms\n${output?.().slice(-3000) ?? ""}`);
}
const answers200 = (url: string) => () => fetch(url).then((r) => r.status === 200);

/** GET over one keep-alive agent; status and body (fetch's pool would hide connection errors behind retries). */
function get(agent: http.Agent, port: number, p: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path: p, agent }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.setTimeout(5_000, () => req.destroy(new Error("timed out")));
  });
}

// ---- processes and memory ------------------------------------------------------------------

type Proc = { pid: number; ppid: number; comm: string };

function listProcs(): Proc[] {
  const out: Proc[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const ppid = Number(stat.slice(close + 2).split(" ")[1]);
      out.push({ pid: Number(name), ppid, comm });
    } catch {}
  }
  return out;
}

function descendantsOf(pid: number, procs = listProcs()): Proc[] {
  const found: Proc[] = [];
  const queue = [pid];
  while (queue.length) {
    const p = queue.shift()!;
    for (const c of procs) if (c.ppid === p) (found.push(c), queue.push(c.pid));
  }
  return found;
}

/** RSS and PSS in MiB (PSS splits shared pages among the processes sharing them: PostgreSQL's shared buffers). */
function memOf(pid: number): { rss: number; pss: number } {
  const kb = (text: string, key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? NaN) / 1024;
  try {
    const rss = kb(readFileSync(`/proc/${pid}/status`, "utf8"), "VmRSS");
    let pss = NaN;
    try {
      pss = kb(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"), "Pss");
    } catch {}
    return { rss, pss };
  } catch {
    return { rss: NaN, pss: NaN };
  }
}

const readPid = (file: string) => {
  try {
    return Number(readFileSync(file, "utf8").split("\n")[0]!.trim()) || null;
  } catch {
    return null;
  }
};

// ---- wrk ------------------------------------------------------------------------------------

type WrkResult = { requests: number; seconds: number; rps: number; p50: number; p99: number; errors: number; non2xx: number };

const DONE_LUA = `done = function(summary, latency, requests)\n  local e = summary.errors\n  io.write(string.format('{"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"errors":%d,"non2xx":%d}\\n', summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), e.connect + e.read + e.write + e.timeout, e.status))\nend\n`;

/** Writes bench/…lua-like scripts into `dir`: one spreading requests over the MACs, one for the chain script. */
async function writeLua(dir: string, macs: string[]): Promise<{ mac: string; chain: string }> {
  const mac = path.join(dir, "macs.lua");
  const chain = path.join(dir, "chain.lua");
  // Each wrk thread has its own Lua state and its own seed, so the threads do not walk the same MACs.
  await fs.writeFile(
    mac,
    `local macs = {${macs.map((m) => `"${dashed(m)}"`).join(",")}}\nlocal n = 0\nsetup = function(thread) n = n + 1; thread:set("seed", n) end\ninit = function(args) math.randomseed(os.time() * 1000 + seed) end\nrequest = function() return wrk.format("GET", "/boot/" .. macs[math.random(#macs)]) end\n${DONE_LUA}`,
  );
  await fs.writeFile(chain, `wrk.path = "/boot/chain.ipxe"\n${DONE_LUA}`);
  return { mac, chain };
}

function wrk(port: number, lua: string, seconds: number, threads: number, connections: number): Promise<WrkResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("wrk", [`-t${threads}`, `-c${connections}`, `-d${seconds}s`, "--timeout", "10s", "-s", lua, `http://127.0.0.1:${port}/boot/chain.ipxe`], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (b: Buffer) => (out += b));
    child.once("error", reject);
    child.once("exit", () => {
      const line = out.trim().split("\n").findLast((l) => l.startsWith("{"));
      if (!line) return reject(new Error(`wrk printed no result:\n${out}`));
      const r = JSON.parse(line) as { requests: number; duration_us: number; p50_us: number; p99_us: number; errors: number; non2xx: number };
      const secs = r.duration_us / 1e6;
      resolve({ requests: r.requests, seconds: secs, rps: r.requests / secs, p50: r.p50_us / 1000, p99: r.p99_us / 1000, errors: r.errors, non2xx: r.non2xx });
    });
  });
}

// ---- Kiln under npm start -------------------------------------------------------------------

type Kiln = { child: ChildProcess; port: number; bootPort: number; dataDir: string; tmp: string; output: () => string; stop(): Promise<void> };

/** `npm start` builds the web app when a source is newer than the build; do it first, under the shared build lock. */
function ensureBuild(): void {
  if (isBuildFresh(root)) return;
  console.log("the web app's build is older than its sources: next build (under /tmp/kiln-build.lock)…");
  const r = spawnSync("flock", ["/tmp/kiln-build.lock", process.execPath, path.join(root, "node_modules/next/dist/bin/next"), "build"], { cwd: root, stdio: ["ignore", "ignore", "inherit"], env: { ...getProcessEnv(), NODE_ENV: "production" } });
  if (r.status !== 0) throw new Error(`next build failed (${r.status})`);
}

async function startNpmStart(nodeOptions: string | null): Promise<Kiln> {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-bench-machine-plane-"));
  // The embedded PostgreSQL runs as the postgres user when we are root: it must reach its directory.
  await fs.chmod(tmp, 0o711);
  const dataDir = path.join(tmp, "data");
  const port = await findFreePort();
  const bootPort = await findFreePort();
  const env: NodeJS.ProcessEnv = { ...getProcessEnv(), KILN_DATA_DIR: dataDir, PORT: String(port), KILN_BOOT_PORT: String(bootPort), KILN_HOST: "127.0.0.1", LOG_LEVEL: "warn" };
  for (const k of ["DATABASE_URL", "SMTP_URL", "LDAP_URL", "LDAP_BASE_DN", "LDAP_BIND_DN", "LDAP_BIND_PASSWORD", "LDAP_ADMIN_GROUP_DN", "KILN_URL", "KILN_BOOT_URL", "KILN_SITE", "NODE_OPTIONS", "NODE_ENV"]) delete env[k];
  // An experiment's flags for every process npm start runs (e.g. a small heap: does the storm's RSS stay bounded, or crash?).
  if (nodeOptions) env.NODE_OPTIONS = nodeOptions;
  // What `npm start` runs, without npm's own process in between (it is not Kiln's memory).
  const child = spawn(process.execPath, ["scripts/launch.mjs"], { cwd: root, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const stop = async () => {
    if (child.exitCode === null) {
      try {
        process.kill(-child.pid!, "SIGTERM");
      } catch {}
      await new Promise<void>((r) => {
        child.once("exit", () => r());
        setTimeout(r, 30_000).unref();
      });
    }
    await fs.rm(tmp, { recursive: true, force: true }).catch(() => {});
  };
  const k = { child, port, bootPort, dataDir, tmp, output: () => output, stop };
  try {
    await waitFor("npm start", 600_000, answers200(`http://127.0.0.1:${port}/api/health`), child, k.output);
    await waitFor("the boot server", 60_000, answers200(`http://127.0.0.1:${bootPort}/boot/chain.ipxe`), child, k.output);
  } catch (e) {
    await stop();
    throw e;
  }
  return k;
}

type KilnProcs = { rows: { name: string; pid: number; rss: number; pss: number }[]; nodeRss: number; pgRows: { pid: number; comm: string; rss: number; pss: number }[]; pgRss: number; pgPss: number; others: string[] };

function kilnProcesses(k: Kiln): KilnProcs {
  const procs = listProcs();
  const run = path.join(k.dataDir, "run");
  const named: [string, number | null][] = [["launcher (npm start)", k.child.pid!], ["web", readPid(path.join(run, "web.pid"))], ["worker", readPid(path.join(run, "worker.pid"))], ["boot server", readPid(path.join(run, "boot.pid"))]];
  const rows = named.filter((n): n is [string, number] => n[1] !== null).map(([name, pid]) => ({ name, pid, ...memOf(pid) }));
  const postmaster = readPid(path.join(k.dataDir, "postgres", "data", "postmaster.pid"));
  const pg = postmaster ? [procs.find((p) => p.pid === postmaster)!, ...descendantsOf(postmaster, procs)].filter(Boolean) : [];
  const pgRows = pg.map((p) => ({ pid: p.pid, comm: p.comm, ...memOf(p.pid) }));
  const known = new Set([...rows.map((r) => r.pid), ...pgRows.map((r) => r.pid)]);
  const others = descendantsOf(k.child.pid!, procs)
    .filter((p) => !known.has(p.pid))
    .map((p) => `${p.comm} (pid ${p.pid}, ${f(memOf(p.pid).rss)} MiB)`);
  return {
    rows,
    nodeRss: rows.reduce((s, r) => s + r.rss, 0),
    pgRows,
    pgRss: pgRows.reduce((s, r) => s + r.rss, 0),
    pgPss: pgRows.reduce((s, r) => s + r.pss, 0),
    others,
  };
}

function printProcesses(title: string, p: KilnProcs): void {
  console.log(`\n${title}`);
  console.log(`| process | pid | RSS MiB | PSS MiB |`);
  console.log(`|---|---:|---:|---:|`);
  for (const r of p.rows) console.log(`| ${r.name} | ${r.pid} | ${f(r.rss)} | ${f(r.pss)} |`);
  console.log(`| **Node total** | | **${f(p.nodeRss)}** | ${f(p.rows.reduce((s, r) => s + r.pss, 0))} |`);
  console.log(`| embedded PostgreSQL (${p.pgRows.length} processes: ${[...new Set(p.pgRows.map((r) => r.comm))].join(", ")}) | | ${f(p.pgRss)} | ${f(p.pgPss)} |`);
  console.log(`| everything | | ${f(p.nodeRss + p.pgRss)} | ${f(p.rows.reduce((s, r) => s + r.pss, 0) + p.pgPss)} |`);
  if (p.others.length) console.log(`other processes under the launcher: ${p.others.join(", ")}`);
}

// ---- the lab: hosts, a holder, marks -------------------------------------------------------

type Lab = { macs: string[]; hostIds: string[]; admin: Actor; mark(hostId: string): Promise<string> };

/** `count` hosts (MACs from macOf(offset…)); those at the indexes in `leased` are leased to a holder who can mark them. */
async function seedLab(db: Db, p: { prefix: string; count: number; leased: number[]; offset?: number }): Promise<Lab> {
  await syncBuiltinTemplates(db);
  const mk = async (name: string, admin: boolean) => {
    const created = await createUserAsAdmin(db, { email: `${name}-${randomBytes(3).toString("hex")}@lab.example`, password: "quartz lantern orbit 47", name, admin });
    return actorOf((await getUserByEmail(db, created.email))!, null);
  };
  const admin = await mk("bench-admin", true);
  const holder = await mk("bench-holder", false);
  const macs = Array.from({ length: p.count }, (_, i) => macOf((p.offset ?? 0) + i));
  const hostIds: string[] = [];
  for (let i = 0; i < p.count; i += 50) {
    const batch = await Promise.all(macs.slice(i, i + 50).map((mac, j) => createHost(db, admin, { name: `${p.prefix}-${String(i + j).padStart(5, "0")}`, interfaces: [{ mac, name: "eno1" }] })));
    hostIds.push(...batch.map((h) => h.id));
  }
  const project = await createProject(db, admin, { name: `${p.prefix}-bench` });
  await addProjectMember(db, admin, project.id, { email: holder.user!.email });
  if (p.leased.length > 0) await createLease(db, admin, { hostIds: p.leased.map((i) => hostIds[i]!), userId: holder.user!.id, projectId: project.id });
  const all = await listTemplates(db, holder);
  const sys = all.find((x) => x.builtinKey === "debian-12-netinstall")!.id;
  const un = all.find((x) => x.builtinKey === "debian-12-preseed")!.id;
  return {
    macs,
    hostIds,
    admin,
    mark: async (hostId) => {
      await updateBootSettings(db, holder, hostId, { systemTemplateId: sys, unattendedTemplateId: un, vars: { disk: "vda" } });
      return (await markForReinstall(db, holder, hostId)).deploymentId;
    },
  };
}

// ---- 1. throughput ---------------------------------------------------------------------------

async function measureThroughput(opt: Options, k: Kiln, lab: Lab, children: ChildProcess[]) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  // The bytes each MAC is answered (asked twice: a marked host's first answer starts its run's boot step; the answer stays the same).
  const www = path.join(k.tmp, "www");
  await fs.mkdir(path.join(www, "boot"), { recursive: true });
  let markedAnswers = 0;
  const local = (await get(agent, k.bootPort, `/boot/${dashed(macOf(1_000_000))}`)).body;
  for (let i = 0; i < lab.macs.length; i += 32) {
    await Promise.all(
      lab.macs.slice(i, i + 32).map(async (mac) => {
        const first = await get(agent, k.bootPort, `/boot/${dashed(mac)}`);
        const again = await get(agent, k.bootPort, `/boot/${dashed(mac)}`);
        if (first.status !== 200 || again.body !== first.body) throw new Error(`${mac}: answers differ between two asks (${first.status})`);
        if (again.body !== local) markedAnswers++;
        await fs.writeFile(path.join(www, "boot", dashed(mac)), again.body);
      }),
    );
  }
  const chain = await get(agent, k.bootPort, "/boot/chain.ipxe");
  await fs.writeFile(path.join(www, "boot", "chain.ipxe"), chain.body);
  const viaPortal = await get(agent, k.port, `/boot/${dashed(lab.macs[0]!)}`);
  agent.destroy();
  console.log(`answers: ${markedAnswers} of ${lab.macs.length} MACs get an install script (marked), the rest local boot (${Buffer.byteLength(local)} B); chain.ipxe ${Buffer.byteLength(chain.body)} B; through the portal's port: ${viaPortal.status}`);

  // nginx: one worker, the files above (one per MAC), no open-file cache (as bench:hostile).
  const nginxPort = await findFreePort();
  const conf = path.join(k.tmp, "nginx.conf");
  await fs.writeFile(
    conf,
    `worker_processes 1;\nerror_log ${k.tmp}/nginx-error.log;\npid ${k.tmp}/nginx.pid;\nevents { worker_connections 1024; }\nhttp {\n  access_log off;\n  default_type text/plain;\n  client_body_temp_path ${k.tmp}/nginx-tmp;\n  server {\n    listen 127.0.0.1:${nginxPort};\n    root ${www};\n  }\n}\n`,
  );
  const nginx = spawn("/usr/sbin/nginx", ["-c", conf, "-g", "daemon off;"], { stdio: "inherit" });
  children.push(nginx);
  await waitFor("nginx", 10_000, answers200(`http://127.0.0.1:${nginxPort}/boot/chain.ipxe`), nginx);

  // The bare node:http server: the chain script's bytes and headers, nothing else (same Node binary as Kiln's).
  const nodePort = await findFreePort();
  const bare = spawn(
    process.execPath,
    // The body goes in as the program's argument (process.argv[1] after `--`), not through the environment.
    ["-e", `const b = Buffer.from(process.argv[1]); require("node:http").createServer({ keepAliveTimeout: 65000 }, (q, s) => { s.writeHead(200, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store", "content-length": b.length }); s.end(b); }).listen(${nodePort}, "127.0.0.1");`, "--", chain.body],
    { stdio: "inherit" },
  );
  children.push(bare);
  await waitFor("the bare node:http server", 10_000, answers200(`http://127.0.0.1:${nodePort}/boot/chain.ipxe`), bare);

  const lua = await writeLua(k.tmp, lab.macs);
  const rows = [
    { key: "nginxMac", name: "nginx /boot/<mac> (static files, baseline)", port: nginxPort, lua: lua.mac },
    { key: "bootMac", name: "Kiln boot server /boot/<mac>", port: k.bootPort, lua: lua.mac },
    { key: "portalMac", name: "Kiln portal port /boot/<mac> (one hop)", port: k.port, lua: lua.mac },
    { key: "nodeChain", name: "bare node:http /boot/chain.ipxe (baseline)", port: nodePort, lua: lua.chain },
    { key: "bootChain", name: "Kiln boot server /boot/chain.ipxe", port: k.bootPort, lua: lua.chain },
    { key: "nginxChain", name: "nginx /boot/chain.ipxe (static file)", port: nginxPort, lua: lua.chain },
  ] as const;
  type Key = (typeof rows)[number]["key"];
  console.log(`warming up (2 s per row)…`);
  for (const r of rows) await wrk(r.port, r.lua, 2, opt.threads, opt.connections);
  const results: Record<Key, WrkResult[]> = { nginxMac: [], bootMac: [], portalMac: [], nodeChain: [], bootChain: [], nginxChain: [] };
  console.log(`rows: wrk -t${opt.threads} -c${opt.connections} -d${opt.duration}s each, ${opt.rounds} rounds, alternating (load before: ${os.loadavg().map((x) => f(x)).join(" ")})`);
  for (let round = 0; round < opt.rounds; round++) {
    // Alternate the order too: even rounds baseline first, odd rounds Kiln first.
    const order = round % 2 === 0 ? rows : [...rows].reverse();
    for (const r of order) results[r.key].push(await wrk(r.port, r.lua, opt.duration, opt.threads, opt.connections));
    const x = results;
    console.log(
      `  round ${round + 1}: boot/nginx <mac> req/s ${f(x.bootMac[round]!.rps / x.nginxMac[round]!.rps, 3)}, p99 ${f(x.bootMac[round]!.p99 / x.nginxMac[round]!.p99, 2)}×; ` +
        `portal/boot <mac> req/s ${f(x.portalMac[round]!.rps / x.bootMac[round]!.rps, 3)}; boot/node chain req/s ${f(x.bootChain[round]!.rps / x.nodeChain[round]!.rps, 3)}`,
    );
  }
  const med = (key: Key) => {
    const rs = results[key];
    return { rps: median(rs.map((r) => r.rps)), p50: median(rs.map((r) => r.p50)), p99: median(rs.map((r) => r.p99)), errors: rs.reduce((s, r) => s + r.errors, 0), non2xx: rs.reduce((s, r) => s + r.non2xx, 0) };
  };
  const ratio = (a: Key, b: Key) => {
    const rps = results[a].map((r, i) => r.rps / results[b][i]!.rps);
    const p99 = results[a].map((r, i) => r.p99 / results[b][i]!.p99);
    return { rps: median(rps), p99: median(p99), rpsAll: rps, p99All: p99 };
  };
  const base: Record<Key, Key | null> = { nginxMac: null, bootMac: "nginxMac", portalMac: "bootMac", nodeChain: null, bootChain: "nodeChain", nginxChain: null };
  console.log(`\n| row (median of ${opt.rounds} rounds) | req/s | p50 ms | p99 ms | errors / non-2xx | compared with | req/s ratio | p99 ratio |`);
  console.log(`|---|---:|---:|---:|---:|---|---:|---:|`);
  for (const r of rows) {
    const m = med(r.key);
    const b = base[r.key];
    const rt = b ? ratio(r.key, b) : null;
    const bName = b ? rows.find((x) => x.key === b)!.name.replace(/ \(.*\)$/, "") : "—";
    console.log(`| ${r.name} | ${f(m.rps, 0)} | ${f(m.p50, 2)} | ${f(m.p99, 2)} | ${m.errors} / ${m.non2xx} | ${bName} | ${rt ? f(rt.rps, 3) : "—"} | ${rt ? `${f(rt.p99, 2)}×` : "—"} |`);
  }
  const mac = ratio("bootMac", "nginxMac");
  const hop = ratio("portalMac", "bootMac");
  const ch = ratio("bootChain", "nodeChain");
  const chNginx = ratio("bootChain", "nginxChain");
  console.log(`\nratios per round: boot/nginx <mac> req/s ${mac.rpsAll.map((x) => f(x, 3)).join(", ")}; p99 ${mac.p99All.map((x) => `${f(x, 2)}×`).join(", ")}`);
  console.log(`  portal hop/boot <mac> req/s ${hop.rpsAll.map((x) => f(x, 3)).join(", ")}; p99 ${hop.p99All.map((x) => `${f(x, 2)}×`).join(", ")}`);
  console.log(`  boot/bare node chain req/s ${ch.rpsAll.map((x) => f(x, 3)).join(", ")}; p99 ${ch.p99All.map((x) => `${f(x, 2)}×`).join(", ")}; boot/nginx chain req/s ${chNginx.rpsAll.map((x) => f(x, 3)).join(", ")}`);
  console.log(`target "/boot/<mac>, ${lab.macs.length} hosts, ${Math.round((markedAnswers / lab.macs.length) * 100)} % marked, ${opt.connections} connections: ≥ 0.30 of nginx req/s, p99 ≤ 3× nginx's": median req/s ratio ${f(mac.rps, 3)} (${met(mac.rps >= 0.3)}), p99 ratio ${f(mac.p99, 2)}× (${met(mac.p99 <= 3)})`);
  return { nginxPort, lua };
}

// ---- 2. memory -----------------------------------------------------------------------------

async function stormMemory(opt: Options, k: Kiln, macLua: string): Promise<void> {
  const bootPid = readPid(path.join(k.dataDir, "run", "boot.pid"))!;
  const seconds = Math.round(opt.stormMinutes * 60);
  console.log(`\nstorm: wrk -t${opt.threads} -c${opt.connections} -d${seconds}s on the boot server's /boot/<mac>, its RSS (pid ${bootPid}) every 10 s…`);
  const samples: { t: number; rss: number }[] = [{ t: 0, rss: memOf(bootPid).rss }];
  const started = Date.now();
  const run = wrk(k.bootPort, macLua, seconds, opt.threads, opt.connections);
  let finished = false;
  void run.finally(() => (finished = true)).catch(() => {});
  while (!finished) {
    await Promise.race([sleep(10_000), run.catch(() => {})]);
    if (finished) break;
    samples.push({ t: (Date.now() - started) / 1000, rss: memOf(bootPid).rss });
  }
  const r = await run;
  samples.push({ t: (Date.now() - started) / 1000, rss: memOf(bootPid).rss });
  const nowPid = readPid(path.join(k.dataDir, "run", "boot.pid"));
  if (nowPid !== bootPid) console.log(`!! the boot server was restarted during the storm (pid ${bootPid} → ${nowPid}); the launcher said:\n${k.output().slice(-3000)}`);
  await sleep(10_000);
  const after = memOf(bootPid).rss;
  // Least squares slope in MiB per minute, over all samples and over the second half (past the warm-up).
  const slope = (s: typeof samples) => {
    const n = s.length;
    const mt = s.reduce((a, x) => a + x.t, 0) / n;
    const mr = s.reduce((a, x) => a + x.rss, 0) / n;
    const num = s.reduce((a, x) => a + (x.t - mt) * (x.rss - mr), 0);
    const den = s.reduce((a, x) => a + (x.t - mt) ** 2, 0);
    return den ? (num / den) * 60 : NaN;
  };
  const rss = samples.map((s) => s.rss);
  const during = samples.slice(1);
  const secondHalf = during.slice(Math.floor(during.length / 2));
  console.log(`samples (s: MiB): ${samples.map((s) => `${Math.round(s.t)}: ${f(s.rss)}`).join(", ")}`);
  console.log(`storm: ${r.requests} requests, ${f(r.rps, 0)} req/s, p50 ${f(r.p50, 2)} ms, p99 ${f(r.p99, 2)} ms, errors ${r.errors}, non-2xx ${r.non2xx}`);
  console.log(
    `boot server RSS: before ${f(rss[0]!)} MiB, first sample in the storm ${f(during[0]?.rss ?? NaN)}, last ${f(rss.at(-1)!)}, max ${f(Math.max(...rss))}, 10 s after ${f(after)}; ` +
      `slope ${f(slope(during), 2)} MiB/min over the storm, ${f(slope(secondHalf), 2)} MiB/min over its second half (last/first in the storm ${f(rss.at(-1)! / (during[0]?.rss ?? NaN), 3)})`,
  );
  console.log(`target "no growth over a ${opt.stormMinutes}-minute storm": second-half slope ${f(slope(secondHalf), 2)} MiB/min → ${met(slope(secondHalf) < 0.5)} (read: under 0.5 MiB/min, i.e. under 5 MiB per 10 minutes, counts as flat)`);
}

/** Standalone web processes (the bundle npm start runs) with and without Node flags: idle RSS and req/s of a page. */
async function webFlagsExperiment(opt: Options, k: Kiln, flagSets: string[]): Promise<void> {
  const pg = await startEmbeddedPostgres(path.join(k.dataDir, "postgres"), { attachIfRunning: true });
  const secret = (n: string) => readFileSync(path.join(k.dataDir, n), "utf8").trim();
  const variants = ["", ...flagSets];
  console.log(`\nweb process flags: ${variants.length} standalone web processes (.build/web.mjs, same database), idle ${opt.idleSeconds} s, then wrk -t${opt.threads} -c16 -d${opt.duration}s on /signin and /api/health, one at a time…`);
  const started: { flags: string; port: number; child: ChildProcess }[] = [];
  try {
    for (const flags of variants) {
      const port = await findFreePort();
      const env: NodeJS.ProcessEnv = { ...getProcessEnv(), DATABASE_URL: pg.url, KILN_DATA_DIR: k.dataDir, PORT: String(port), KILN_BOOT_PORT: String(k.bootPort), KILN_HOST: "127.0.0.1", LOG_LEVEL: "warn", NODE_ENV: "production", AUTH_SECRET: secret("auth-secret"), KILN_SECRET_KEY: secret("secret-key") };
      delete env.NODE_OPTIONS;
      const child = spawn(process.execPath, [...flags.split(" ").filter(Boolean), "--enable-source-maps", path.join(root, ".build", "web.mjs")], { cwd: root, env, stdio: ["ignore", "ignore", "inherit", "ipc"] });
      started.push({ flags, port, child });
      await waitFor(`web ${flags || "(no flags)"}`, 120_000, answers200(`http://127.0.0.1:${port}/api/health`), child);
    }
    // One request to the page first, so each has loaded what a page needs; then idle.
    for (const s of started) await fetch(`http://127.0.0.1:${s.port}/signin`).then((r) => r.text());
    await sleep(opt.idleSeconds * 1000);
    const idle = started.map((s) => memOf(s.child.pid!).rss);
    const dir = await fs.mkdtemp(path.join(k.tmp, "lua-"));
    const page = path.join(dir, "page.lua");
    const health = path.join(dir, "health.lua");
    await fs.writeFile(page, `wrk.path = "/signin"\n${DONE_LUA}`);
    await fs.writeFile(health, `wrk.path = "/api/health"\n${DONE_LUA}`);
    const rows: string[] = [];
    const runs: { page: WrkResult; health: WrkResult; after: number }[] = [];
    for (const s of started) {
      await wrk(s.port, page, 2, opt.threads, 16);
      const p = await wrk(s.port, page, opt.duration, opt.threads, 16);
      const h = await wrk(s.port, health, opt.duration, opt.threads, 16);
      runs.push({ page: p, health: h, after: memOf(s.child.pid!).rss });
    }
    console.log(`| web flags | idle RSS MiB | RSS after the load MiB | /signin req/s | p99 ms | /api/health req/s | p99 ms | /signin req/s vs no flags |`);
    console.log(`|---|---:|---:|---:|---:|---:|---:|---:|`);
    started.forEach((s, i) => {
      const r = runs[i]!;
      rows.push(`| ${s.flags || "(none)"} | ${f(idle[i]!)} | ${f(r.after)} | ${f(r.page.rps, 0)} | ${f(r.page.p99, 1)} | ${f(r.health.rps, 0)} | ${f(r.health.p99, 1)} | ${f(r.page.rps / runs[0]!.page.rps, 3)} |`);
    });
    for (const row of rows) console.log(row);
  } finally {
    for (const s of started) if (s.child.exitCode === null) s.child.kill("SIGTERM");
    await sleep(1000);
  }
}

// ---- 3. two sites on one PostgreSQL ------------------------------------------------------------

async function twoSites(opt: Options): Promise<void> {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-bench-two-sites-"));
  await fs.chmod(tmp, 0o711);
  let pg: EmbeddedPostgresHandle | null = null;
  const servers: { site: string; port: number; child: ChildProcess; output: () => string }[] = [];
  let handle: ReturnType<typeof createDb> | null = null;
  let stopping = false;
  try {
    console.log(`\ntwo sites: a private embedded PostgreSQL (stopped and started below; the system's is never touched), migrations…`);
    pg = await startEmbeddedPostgres(path.join(tmp, "pg"));
    const url = pg.url;
    await runMigrations(url);
    // The job tables, as the worker installs them under npm start: a mark's follow-ups enqueue jobs.
    const { PgBoss } = await import("pg-boss");
    const boss = new PgBoss({ connectionString: url, max: 1, supervise: false, schedule: false });
    await boss.start();
    await boss.stop({ graceful: false, close: true });
    const secretKey = randomBytes(32).toString("hex");
    setEnvForProcess({ DATABASE_URL: url, KILN_SECRET_KEY: secretKey, KILN_DATA_DIR: path.join(tmp, "data"), LOG_LEVEL: "warn" });
    handle = createDb(url, { max: 4 });
    const db = handle.db;
    const lab = await seedLab(db, { prefix: "sites", count: 30, leased: Array.from({ length: 22 }, (_, i) => i), offset: 50_000 });

    for (const site of ["a", "b"]) {
      const port = await findFreePort();
      const env: NodeJS.ProcessEnv = { ...getProcessEnv(), DATABASE_URL: url, KILN_SECRET_KEY: secretKey, KILN_BOOT_PORT: String(port), KILN_SITE: site, KILN_BOOT_URL: `http://127.0.0.1:${port}`, KILN_BOOT_SERVER_NAME: `bench-${site}`, KILN_HOST: "127.0.0.1", KILN_DATA_DIR: path.join(tmp, "data"), LOG_LEVEL: "warn", NODE_ENV: "production" };
      delete env.NODE_OPTIONS;
      const child = spawn(process.execPath, ["--enable-source-maps", path.join(root, ".build", "boot-server.mjs")], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
      let output = "";
      child.stdout!.on("data", (d) => (output += d));
      child.stderr!.on("data", (d) => (output += d));
      servers.push({ site, port, child, output: () => output });
      child.once("exit", (code, signal) => {
        if (!stopping) console.log(`!! boot server ${site} exited (${signal ?? code}) while the bench ran; its last output:\n${output.slice(-4000)}`);
      });
    }
    for (const s of servers) await waitFor(`boot server ${s.site}`, 60_000, answers200(`http://127.0.0.1:${s.port}/boot/chain.ipxe`), s.child, s.output);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const ask = (s: (typeof servers)[number], mac: string) => get(agent, s.port, `/boot/${dashed(mac)}`);

    // A machine nobody registered, seen through b, joins site b.
    const stranger = macOf(60_000);
    const t0 = performance.now();
    await ask(servers[1]!, stranger);
    let discovered: Awaited<ReturnType<typeof findHostByMac>>;
    await waitFor("the discovery through b", 10_000, async () => Boolean((discovered = await findHostByMac(db, stranger))));
    const siteB = await ensureSite(db, "b");
    const siteA = await ensureSite(db, "a");
    console.log(`discovery: ${stranger} asked boot server b; a host (state ${discovered!.host.state}) exists ${Math.round(performance.now() - t0)} ms later, in site ${discovered!.host.siteId === siteB.id ? "b ✓" : discovered!.host.siteId === siteA.id ? "a ✗" : `${discovered!.host.siteId} ✗`}`);

    // Every known machine asked once on each server (the answers are then in memory).
    const local = (await ask(servers[0]!, macOf(61_000))).body;
    for (const s of servers) for (const mac of lab.macs) await ask(s, mac);

    const seenAfter = async (mac: string, timeoutMs = 10_000): Promise<number[]> => {
      const t = performance.now();
      return Promise.all(
        servers.map(async (s) => {
          while (performance.now() - t < timeoutMs) {
            const a = await ask(s, mac).catch(() => null);
            if (a && a.status === 200 && a.body !== local) return performance.now() - t;
            await sleep(10);
          }
          return Infinity;
        }),
      );
    };
    const times: number[][] = [];
    for (let i = 0; i < 20; i++) {
      await lab.mark(lab.hostIds[i]!);
      // From the mark's commit (markForReinstall has returned) to each server answering the run.
      times.push(await seenAfter(lab.macs[i]!));
    }
    const worst = Math.max(...times.flat());
    for (const [j, s] of servers.entries()) {
      const t = times.map((x) => x[j]!);
      console.log(`mark seen by boot server ${s.site} (polled every 10 ms, 20 marks): p50 ${f(median(t), 0)} ms, max ${f(Math.max(...t), 0)} ms`);
    }
    console.log(`target "a mark made in the portal is answered by both within 1 s": worst ${f(worst, 0)} ms → ${met(worst <= 1000)}`);

    await sleep(11_000);
    const beats = (await listBootServers(db, lab.admin)).filter((b) => b.name.startsWith("bench-"));
    console.log(`heartbeats: ${beats.map((b) => `${b.name} (site ${b.siteName}, ${b.status})`).join(", ") || "none"}`);
    for (const s of servers) console.log(`boot server ${s.site} RSS now: ${f(memOf(s.child.pid!).rss)} MiB (target for a boot server alone: ≤ 120 MiB)`);

    // PostgreSQL stopped: both answer what they know, from memory.
    const known = [...lab.macs.slice(0, 20), ...lab.macs.slice(22, 30)];
    // What each server answered each known machine just before the stop.
    const before = new Map<string, string>();
    for (const s of servers) for (const mac of known) before.set(`${s.site} ${mac}`, (await ask(s, mac)).body);
    const same = known.filter((mac) => before.get(`a ${mac}`) === before.get(`b ${mac}`));
    console.log(`before the stop, a and b answer the same bytes for ${same.length} of ${known.length} known machines${same.length < known.length ? ` (differ: ${known.filter((m) => !same.includes(m)).join(" ")})` : ""}`);
    await pg.stop();
    pg = null;
    const outage = await Promise.all(
      servers.map(async (s) => {
        const tally = { answers: 0, errors: 0, mismatched: 0, asLocal: 0, macs: new Set<string>(), kinds: new Map<string, number>() };
        const end = performance.now() + 10_000;
        await Promise.all(
          Array.from({ length: 4 }, async (_, w) => {
            for (let i = w; performance.now() < end; i += 4) {
              const mac = known[i % known.length]!;
              const a = await ask(s, mac).catch((e: NodeJS.ErrnoException) => ({ status: 0, body: e.code ?? e.message }));
              if (a.status !== 200) {
                tally.errors++;
                const kind = a.status ? `HTTP ${a.status}` : a.body;
                tally.kinds.set(kind, (tally.kinds.get(kind) ?? 0) + 1);
              }
              else if (a.body !== before.get(`${s.site} ${mac}`)) {
                tally.mismatched++;
                if (a.body === local) tally.asLocal++;
                tally.macs.add(mac);
              }
              else tally.answers++;
            }
          }),
        );
        return tally;
      }),
    );
    for (const [j, s] of servers.entries()) {
      const o = outage[j]!;
      console.log(
        `PostgreSQL stopped, 10 s: boot server ${s.site} gave ${o.answers} answers (same as before the stop) to ${known.length} known machines; errors ${o.errors}${o.errors ? ` (${[...o.kinds].map(([k, n]) => `${k} ×${n}`).join(", ")})` : ""}, different answers ${o.mismatched}${o.mismatched ? ` (${o.asLocal} of them local boot; MACs ${[...o.macs].join(" ")})` : ""}`,
      );
      if (s.child.exitCode !== null || s.child.signalCode !== null) console.log(`  boot server ${s.site} EXITED (${s.child.exitCode ?? s.child.signalCode}); its last output:\n${s.output().slice(-3000)}`);
    }
    const outageOk = outage.every((o) => o.errors === 0 && o.mismatched === 0 && o.answers > 0);
    console.log(`target "PostgreSQL stopped: both keep answering known machines": ${met(outageOk)}`);

    // Started again: nobody touches the boot servers; a new mark reaches both.
    const tStart = performance.now();
    pg = await startEmbeddedPostgres(path.join(tmp, "pg"));
    const upMs = performance.now() - tStart;
    if (pg.url !== url) console.log(`(PostgreSQL came back on another port: ${pg.url} — the boot servers cannot follow that)`);
    // The bench's own pool reconnects on its next query; the mark may fail while the server is still starting.
    let markedAt = NaN;
    for (let i = 0; i < 100 && !Number.isFinite(markedAt); i++) {
      try {
        await lab.mark(lab.hostIds[20]!);
        markedAt = performance.now();
      } catch (e) {
        if (i === 99) throw e;
        await sleep(100);
      }
    }
    const after = await seenAfter(lab.macs[20]!, 60_000);
    console.log(
      `PostgreSQL started again (${f(upMs / 1000, 1)} s to start); a new mark ${f((markedAt - tStart) / 1000, 1)} s after the start: seen by a after ${f(after[0]!, 0)} ms, by b after ${f(after[1]!, 0)} ms (from the mark's commit), no step by anyone`,
    );
    console.log(`  (${f((markedAt - tStart + Math.max(...after)) / 1000, 1)} s from PostgreSQL's start until both answer the new mark)`);
    console.log(`target "restarted: no manual step": ${met(after.every((t) => Number.isFinite(t)))}`);
    agent.destroy();
  } finally {
    stopping = true;
    for (const s of servers) if (s.child.exitCode === null) s.child.kill("SIGTERM");
    await sleep(1500);
    await handle?.close().catch(() => {});
    await pg?.stop().catch(() => {});
    await fs.rm(tmp, { recursive: true, force: true }).catch(() => {});
  }
}

// ---- main ----------------------------------------------------------------------------------

async function main(): Promise<void> {
  const opt = options();
  for (const [bin, pkg] of [["/usr/sbin/nginx", "nginx-light"], ["/usr/bin/wrk", "wrk"]] as const) {
    if (!existsSync(bin)) {
      console.error(`${bin} is missing: apt-get install ${pkg} (bench/README.md).`);
      process.exit(1);
    }
  }
  console.log(`uptime before: ${uptime()}`);
  console.log(`machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? "?"}), ${f(os.totalmem() / MiB / 1024, 0)} GiB, ${os.release()}, Node ${process.version}`);
  const children: ChildProcess[] = [];
  if (opt.throughput || opt.memory) {
    ensureBuild();
    console.log(`\nstarting Kiln as npm start does (node scripts/launch.mjs, empty data directory, embedded PostgreSQL)…`);
    if (opt.nodeOptions) console.log(`NODE_OPTIONS for npm start's processes: ${opt.nodeOptions}`);
    const k = await startNpmStart(opt.nodeOptions);
    try {
      console.log(`Kiln up: portal :${k.port}, boot server :${k.bootPort}`);
      if (opt.memory) {
        console.log(`idle for ${opt.idleSeconds} s…`);
        await sleep(opt.idleSeconds * 1000);
        const idle = kilnProcesses(k);
        printProcesses(`idle RSS, ${opt.idleSeconds} s after start (no hosts yet; load ${os.loadavg().map((x) => f(x)).join(" ")}):`, idle);
        const boot = idle.rows.find((r) => r.name === "boot server")?.rss ?? NaN;
        console.log(`target "all of Kiln's processes together ≤ 450 MiB RSS idle": Node processes ${f(idle.nodeRss)} MiB → ${met(idle.nodeRss <= 450)}; with the embedded PostgreSQL ${f(idle.nodeRss + idle.pgRss)} MiB RSS (PSS ${f(idle.rows.reduce((s, r) => s + r.pss, 0) + idle.pgPss)}) → ${met(idle.nodeRss + idle.pgRss <= 450)}`);
        console.log(`target "a boot server alone ≤ 120 MiB": ${f(boot)} MiB → ${met(boot <= 120)}`);
        if (opt.webFlags ?? idle.nodeRss > 450) {
          await webFlagsExperiment(opt, k, opt.webFlags ?? ["--max-semi-space-size=1", "--max-old-space-size=192", "--max-semi-space-size=1 --max-old-space-size=192"]);
        }
      }
      const hosts = opt.hosts;
      const marked = Math.round(hosts * opt.marked);
      console.log(`\nregistering ${hosts} hosts and marking ${marked} of them for reinstall (through lib, as the portal does)…`);
      const pg = await startEmbeddedPostgres(path.join(k.dataDir, "postgres"), { attachIfRunning: true });
      setEnvForProcess({ DATABASE_URL: pg.url, KILN_SECRET_KEY: readFileSync(path.join(k.dataDir, "secret-key"), "utf8").trim(), KILN_DATA_DIR: k.dataDir, LOG_LEVEL: "warn" });
      const handle = createDb(pg.url, { max: 8 });
      let lab: Lab;
      try {
        // Spread the marked ones over the list: every tenth host.
        const step = Math.max(1, Math.floor(hosts / Math.max(1, marked)));
        const toMark = Array.from({ length: marked }, (_, i) => i * step);
        lab = await seedLab(handle.db, { prefix: "plane", count: hosts, leased: toMark });
        for (let i = 0; i < toMark.length; i += 10) await Promise.all(toMark.slice(i, i + 10).map((j) => lab.mark(lab.hostIds[j]!)));
      } finally {
        await handle.close();
      }
      let macLua: string | null = null;
      if (opt.throughput) macLua = (await measureThroughput(opt, k, lab!, children)).lua.mac;
      if (opt.memory) {
        if (!macLua) macLua = (await writeLua(k.tmp, lab!.macs)).mac;
        await stormMemory(opt, k, macLua);
        printProcesses(`RSS after the storm (load ${os.loadavg().map((x) => f(x)).join(" ")}):`, kilnProcesses(k));
      }
    } finally {
      for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
      await k.stop();
    }
  }
  if (opt.sites) {
    // The bundle npm start runs (built above when Kiln started; here in case it was skipped).
    if (!existsSync(path.join(root, ".build", "boot-server.mjs"))) execFileSync(process.execPath, [path.join(root, "scripts", "bundle.mjs")], { cwd: root, stdio: "inherit" });
    await twoSites(opt);
  }
  console.log(`\nuptime after: ${uptime()}`);
  console.log(`(wrk, nginx, the bare node server, Kiln's processes and PostgreSQL share these ${os.cpus().length} cores${os.loadavg()[0]! > os.cpus().length ? `, and so did other work: the load average was above the core count` : ""})`);
}

main()
  .catch((e) => {
    console.error(`machine-plane failed: ${(e as Error).stack ?? e}`);
    process.exitCode = 1;
  })
  .finally(async () => {
    await stopJobSender().catch(() => {});
    await stopRenderPool().catch(() => {});
    process.exit();
  });
