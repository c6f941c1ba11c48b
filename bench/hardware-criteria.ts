// `npm run bench:hardware`: selecting hosts by hardware (issue 15) on a pool of 10,000 hosts with
// varied facts, each Kiln row beside the same job done by ONE raw SQL statement, in the same run on
// the same database:
//
//   matches  — GET /api/v1/pools/{id}/matches with six criteria (cores, memory, an SSD of 500 GB,
//              UEFI, EPYC, a 10 Gb/s NIC), driven by Debian's wrk; baseline: the same counts (free,
//              matching, without facts, one per criterion) as one SELECT … count(*) FILTER (…),
//              driven by pgbench (-M prepared, a custom script file).
//   hosts    — GET /api/v1/hosts?pool=…&<the same criteria> (the admin's first page of 50 and the
//              total); baseline: SELECT … count(*) OVER () … ORDER BY name LIMIT 50.
//   lease    — POST /api/v1/leases for 1 host, with the six criteria and without (an admin token,
//              one project, as one user leasing); baseline: UPDATE hosts SET state = 'leased' WHERE
//              id = (SELECT … LIMIT 1 FOR UPDATE SKIP LOCKED), as in bench:leases. Before each lease
//              row the pool is put back (leases truncated, hosts available, VACUUM ANALYZE); pgbench
//              runs a fixed number of grants that fits the matching hosts, wrk a duration that does.
//
// The baseline SQL is written by hand (no jsonb type guards); before the rows the bench checks that
// it answers what Kiln answers (counts; total and first page). Options: --hosts 10000 --duration 10
// --lease-duration 8 --connections 16. Needs wrk and pgbench (bash scripts/ensure-deps.sh --bench).
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs, promisify } from "node:util";
import postgres from "postgres";
import { createDb } from "@/db/client";
import { insertHosts, insertInterfaces, type HostInsert } from "@/db/queries/hosts";
import { startEmbeddedPostgres } from "@/lib/runtime/embedded-postgres";
import { benchApi, startBenchKiln, type BenchKiln } from "./kiln";
import { luaString, runPgbench, table } from "./load-tools";

const run = promisify(execFile);

function options() {
  const { values } = parseArgs({
    options: {
      hosts: { type: "string", default: "10000" },
      duration: { type: "string", default: "10" },
      "lease-duration": { type: "string", default: "8" },
      connections: { type: "string", default: "16" },
    },
  });
  const num = (k: keyof typeof values) => {
    const n = Number(values[k]);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${k} must be a positive integer (got ${values[k]}).`);
    return n;
  };
  return { hosts: num("hosts"), duration: num("duration"), leaseDuration: num("lease-duration"), connections: num("connections") };
}

// ---- the pool: varied, deterministic facts ----------------------------------------------------

/** mulberry32: the same pool on every run. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CPUS = ["AMD EPYC 7543 32-Core Processor", "AMD EPYC 9354 32-Core Processor", "AMD EPYC 7313P 16-Core Processor", "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz", "Intel(R) Xeon(R) Silver 4314 CPU @ 2.40GHz"];
const GB = 1_000_000_000;
const DISK_SIZES = [240, 480, 960, 1920, 3840, 8000, 16000].map((g) => g * GB);

/** One host's hardware as commissioning stores it; one in twenty was never commissioned. */
function hardwareOf(rand: () => number): Pick<HostInsert, "cpuCores" | "memoryMb" | "disks" | "facts"> {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  if (rand() < 0.05) return { cpuCores: null, memoryMb: null, disks: [], facts: {} };
  const disks = Array.from({ length: 1 + Math.floor(rand() * 3) }, (_, i) => {
    const kind = pick(["hdd", "ssd", "nvme"] as const);
    const sizeBytes = pick(DISK_SIZES);
    // Reported three ways, as real inventories are: a type, an nvme* name, or only the rotational flag.
    if (kind === "nvme") return rand() < 0.5 ? { name: `nvme${i}n1`, sizeBytes } : { name: `nvme${i}n1`, sizeBytes, type: "nvme" as const };
    return rand() < 0.5 ? { name: `sd${"abc"[i]}`, sizeBytes, type: kind } : { name: `sd${"abc"[i]}`, sizeBytes, rotational: kind === "hdd" };
  });
  return {
    cpuCores: pick([8, 16, 24, 32, 48, 64, 128]),
    memoryMb: pick([32768, 65536, 131072, 262144, 524288]),
    disks,
    facts: {
      firmware: rand() < 0.8 ? "uefi" : "bios",
      cpu: { model: pick(CPUS), sockets: rand() < 0.5 ? 1 : 2 },
      nics: Array.from({ length: 1 + Math.floor(rand() * 3) }, (_, i) => ({ name: `eno${i + 1}`, mac: `02:ee:00:00:00:0${i}`, speedMbps: pick([1000, 10000, 25000, 100000]), link: true })),
    },
  };
}

async function seedPool(url: string, poolId: string, count: number): Promise<void> {
  const { db, close } = createDb(url, { max: 2 });
  const rand = prng(15);
  try {
    for (let from = 0; from < count; from += 1000) {
      const n = Math.min(1000, count - from);
      const rows = await insertHosts(
        db,
        Array.from({ length: n }, (_, j) => ({ name: `hw-${String(from + j).padStart(5, "0")}`, state: "available" as const, poolId, ...hardwareOf(rand) })),
      );
      await insertInterfaces(
        db,
        rows.map((h, j) => {
          const i = from + j;
          return { hostId: h.id, mac: `02:c1:15:00:${((i >> 8) & 255).toString(16).padStart(2, "0")}:${(i & 255).toString(16).padStart(2, "0")}`, isPxe: true };
        }),
      );
    }
  } finally {
    await close();
  }
}

// ---- the criteria, for Kiln and as hand-written SQL ---------------------------------------------

const CRITERIA = { minCores: 16, minMemoryMb: 65536, minDiskGb: 500, diskType: "ssd", firmware: "uefi", cpuModel: "EPYC", minNicSpeedMbps: 10000 } as const;
const QUERY = new URLSearchParams(Object.entries(CRITERIA).map(([k, v]) => [k, String(v)])).toString();

const DISK_KIND = `coalesce(d->>'type', case when d->>'name' like 'nvme%' then 'nvme' when (d->>'rotational')::boolean then 'hdd' when not (d->>'rotational')::boolean then 'ssd' end)`;
/** The six criteria in Kiln's order (cores, memory, disk, firmware, cpuModel, nicSpeed). */
const SQL_CRITERIA = [
  `h.cpu_cores >= ${CRITERIA.minCores}`,
  `h.memory_mb >= ${CRITERIA.minMemoryMb}`,
  `exists (select 1 from jsonb_array_elements(h.disks) d where (d->>'sizeBytes')::numeric >= ${CRITERIA.minDiskGb}e9 and ${DISK_KIND} in ('ssd', 'nvme'))`,
  `h.facts->>'firmware' = '${CRITERIA.firmware}'`,
  `h.facts->'cpu'->>'model' ilike '%${CRITERIA.cpuModel}%'`,
  `exists (select 1 from jsonb_array_elements(h.facts->'nics') n where (n->>'speedMbps')::int >= ${CRITERIA.minNicSpeedMbps})`,
];
const ALL = SQL_CRITERIA.map((c) => `(${c})`).join(" and ");
const NO_FACTS = `h.cpu_cores is null and h.memory_mb is null and h.disks = '[]' and h.facts->'cpu' is null and h.facts->'nics' is null and h.facts->'firmware' is null`;

// `:pool` is pgbench's variable (a parameter with -M prepared); $1 when the bench runs it itself.
const SQL_MATCHES = `select count(*)::int as free, (count(*) filter (where ${ALL}))::int as matching, (count(*) filter (where ${NO_FACTS}))::int as without_facts, ${SQL_CRITERIA.map((c, i) => `(count(*) filter (where ${c}))::int as c${i}`).join(", ")} from hosts h where h.pool_id = :pool and h.state = 'available';`;
const SQL_HOSTS = `select h.*, count(*) over () as total from hosts h where h.pool_id = :pool and ${ALL} order by h.name limit 50;`;
const sqlLease = (withCriteria: boolean) =>
  `update hosts set state = 'leased', updated_at = now() where id = (select h.id from hosts h where h.pool_id = :pool and h.state = 'available'${withCriteria ? ` and ${ALL}` : ""} order by h.name limit 1 for update skip locked) returning id;`;

// ---- load tools ----------------------------------------------------------------------------

type Result = { rps: number; p50: number; p99: number; errors: number; count: number };

async function wrk(k: BenchKiln, o: { method: string; path: string; body?: unknown; seconds: number; connections: number }): Promise<Result> {
  const file = path.join(os.tmpdir(), `kiln-bench-hardware-${process.pid}.lua`);
  await fs.writeFile(
    file,
    `wrk.method = ${luaString(o.method)}
wrk.path = ${luaString(o.path)}
wrk.headers["authorization"] = ${luaString(`Bearer ${k.token}`)}
${o.body === undefined ? "" : `wrk.headers["content-type"] = "application/json"\nwrk.body = ${luaString(JSON.stringify(o.body))}`}
function done(summary, latency, requests)
  io.write(string.format('{"requests":%d,"duration_us":%d,"non2xx":%d,"errors":%d,"p50_us":%d,"p99_us":%d}\\n', summary.requests, summary.duration,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, latency:percentile(50), latency:percentile(99)))
end
`,
  );
  try {
    const { stdout } = await run("wrk", ["-t2", `-c${o.connections}`, `-d${o.seconds}s`, "--timeout", "30s", "-s", file, k.base], { maxBuffer: 1 << 20 });
    const line = stdout.trim().split("\n").findLast((l) => l.startsWith("{"));
    if (!line) throw new Error(`wrk printed no result:\n${stdout}`);
    const w = JSON.parse(line) as { requests: number; duration_us: number; non2xx: number; errors: number; p50_us: number; p99_us: number };
    return { rps: w.requests / (w.duration_us / 1e6), p50: w.p50_us / 1000, p99: w.p99_us / 1000, errors: w.non2xx + w.errors, count: w.requests };
  } finally {
    await fs.rm(file, { force: true });
  }
}

async function pgbench(url: string, o: { script: string; poolId: string; connections: number; seconds?: number; transactions?: number }): Promise<Result> {
  const length = o.transactions ? ["-t", String(o.transactions)] : ["-T", String(o.seconds)];
  const r = await runPgbench(url, { script: o.script, connections: o.connections, length, extra: ["-D", `pool=${o.poolId}`] });
  return { rps: r.tps, p50: r.p50, p99: r.p99, errors: r.failed, count: r.done };
}

// ---- the run ---------------------------------------------------------------------------------

type Row = { name: string; tool: string; r: Result; load: number; base?: Row };

async function main(): Promise<void> {
  const o = options();
  for (const bin of ["wrk", "pgbench"]) {
    if (!(await run("sh", ["-c", `command -v ${bin}`]).then(() => true, () => false))) throw new Error(`${bin} is missing: bash scripts/ensure-deps.sh --bench.`);
  }
  process.stderr.write("starting Kiln (npm start's launcher, embedded PostgreSQL)…\n");
  const k = await startBenchKiln("hardware", { KILN_POWER_POLL_SECONDS: "0" });
  try {
    const pg = await startEmbeddedPostgres(path.join(k.dataDir, "postgres"), { attachIfRunning: true });
    const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
    try {
      const pool = await benchApi<{ id: string }>(k, "POST", "/api/v1/pools", { name: "hardware" }, 201);
      const project = await benchApi<{ id: string }>(k, "POST", "/api/v1/projects", { name: "hardware" }, 201);
      await benchApi(k, "POST", `/api/v1/projects/${project.id}/members`, { email: k.email }, 201);
      process.stderr.write(`seeding ${o.hosts} hosts…\n`);
      await seedPool(pg.url, pool.id, o.hosts);
      await sql`vacuum analyze`;
      const bind = (text: string) => text.replaceAll(":pool", "$1");

      // The baseline must answer what Kiln answers, or its speed means nothing.
      const kilnMatches = await benchApi<{ free: number; matching: number; withoutFacts: number; criteria: { matching: number }[] }>(k, "GET", `/api/v1/pools/${pool.id}/matches?${QUERY}`, undefined, 200);
      const [raw] = await sql.unsafe(bind(SQL_MATCHES), [pool.id]);
      const rawCounts = [raw!.free, raw!.matching, raw!.without_facts, ...SQL_CRITERIA.map((_, i) => raw![`c${i}`])];
      const kilnCounts = [kilnMatches.free, kilnMatches.matching, kilnMatches.withoutFacts, ...kilnMatches.criteria.map((c) => c.matching)];
      if (JSON.stringify(rawCounts) !== JSON.stringify(kilnCounts)) throw new Error(`raw SQL counts ${rawCounts} but Kiln counts ${kilnCounts}`);
      const kilnHosts = await benchApi<{ data: { name: string }[]; pagination: { total: number } }>(k, "GET", `/api/v1/hosts?pool=${pool.id}&${QUERY}`, undefined, 200);
      const rawHosts = await sql.unsafe(bind(SQL_HOSTS), [pool.id]);
      if (Number(rawHosts[0]?.total) !== kilnHosts.pagination.total || rawHosts.map((h) => h.name).join() !== kilnHosts.data.map((h) => h.name).join()) {
        throw new Error(`raw SQL lists ${rawHosts[0]?.total} hosts, Kiln ${kilnHosts.pagination.total} (or a different first page)`);
      }
      const matching = kilnMatches.matching;
      process.stderr.write(`pool: ${kilnMatches.free} free, ${matching} match all six criteria (${kilnCounts.slice(3).join(", ")} each), ${kilnMatches.withoutFacts} without facts\n`);

      const rows: Row[] = [];
      const measure = async (name: string, tool: string, f: () => Promise<Result>, base?: Row) => {
        const load = os.loadavg()[0]!;
        const r = await f();
        if (r.errors) throw new Error(`${name}: ${r.errors} failed requests`);
        const row = { name, tool, r, load, base };
        rows.push(row);
        process.stderr.write(`${name}: ${r.rps.toFixed(0)}/s\n`);
        return row;
      };
      const C = o.connections;
      const warm = (p: string) => wrk(k, { method: "GET", path: p, seconds: 3, connections: C });

      // Reads: the pool does not change.
      const matchesPath = `/api/v1/pools/${pool.id}/matches?${QUERY}`;
      const hostsPath = `/api/v1/hosts?pool=${pool.id}&${QUERY}`;
      await warm(matchesPath);
      await warm(hostsPath);
      let base = await measure("raw SQL: the same counts, 1 SELECT", `pgbench -c${C}`, () => pgbench(pg.url, { script: SQL_MATCHES, poolId: pool.id, connections: C, seconds: o.duration }));
      await measure("Kiln GET /pools/{id}/matches, 6 criteria", `wrk -c${C}`, () => wrk(k, { method: "GET", path: matchesPath, seconds: o.duration, connections: C }), base);
      base = await measure("raw SQL: page of 50 + total, 1 SELECT", `pgbench -c${C}`, () => pgbench(pg.url, { script: SQL_HOSTS, poolId: pool.id, connections: C, seconds: o.duration }));
      await measure("Kiln GET /hosts?pool&6 criteria (page 50)", `wrk -c${C}`, () => wrk(k, { method: "GET", path: hostsPath, seconds: o.duration, connections: C }), base);

      // Leases: each row starts from the same pool. pgbench runs a fixed count that fits the matching hosts.
      const reset = async () => {
        // wrk stops with grants still running inside Kiln (their callers gone); the truncate would
        // deadlock with them, so first wait until no other session of the database is busy.
        const deadline = Date.now() + 120_000;
        for (;;) {
          const [busy] = await sql`select count(*)::int as n from pg_stat_activity
            where datname = current_database() and pid <> pg_backend_pid() and state in ('active', 'idle in transaction') and query not ilike '%listen%'`;
          if (busy!.n === 0 || Date.now() > deadline) break;
          await new Promise((r) => setTimeout(r, 250));
        }
        await sql`truncate lease_events, lease_hosts, leases, host_events, audit_log cascade`;
        await sql`update hosts set state = 'available' where pool_id = ${pool.id} and state <> 'available'`;
        await sql`vacuum analyze hosts, leases, lease_hosts`;
      };
      const perClient = Math.max(1, Math.floor((matching * 0.8) / C));
      const leaseBody = (withCriteria: boolean) => ({ poolId: pool.id, projectId: project.id, count: 1, ...(withCriteria ? CRITERIA : {}) });
      for (const withCriteria of [true, false]) {
        const what = withCriteria ? "6 criteria" : "no criteria";
        await reset();
        const raw = await measure(`raw SQL: UPDATE … SKIP LOCKED, ${what}`, `pgbench -c${C} -t${perClient}`, () =>
          pgbench(pg.url, { script: sqlLease(withCriteria), poolId: pool.id, connections: C, transactions: perClient }),
        );
        const [leased] = await sql`select count(*)::int as n from hosts where pool_id = ${pool.id} and state = 'leased'`;
        if (leased!.n !== C * perClient) throw new Error(`pgbench leased ${leased!.n} hosts, expected ${C * perClient}`);
        await reset();
        await measure(`Kiln POST /leases (1 host), ${what}`, `wrk -c${C}`, () => wrk(k, { method: "POST", path: "/api/v1/leases", body: leaseBody(withCriteria), seconds: o.leaseDuration, connections: C }), raw);
      }
      await reset();

      const f = (n: number, d = 0) => n.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
      const out = [["row", "tool", "req/s", "p50 ms", "p99 ms", "Kiln/raw req/s", "p50 Kiln/raw", "load 1m"]];
      for (const r of rows) {
        out.push([r.name, r.tool, f(r.r.rps), f(r.r.p50, 2), f(r.r.p99, 2), r.base ? (r.r.rps / r.base.r.rps).toFixed(3) : "—", r.base ? `${(r.r.p50 / r.base.r.p50).toFixed(1)}×` : "—", r.load.toFixed(2)]);
      }
      const byName = (s: string) => rows.find((r) => r.name.startsWith(s))!.r.rps;
      console.log(`\nhardware criteria — ${new Date().toISOString().slice(0, 16)}Z, nproc ${os.cpus().length} (${os.cpus()[0]?.model ?? "?"}), embedded PostgreSQL, ${o.hosts} hosts in one pool`);
      console.log(`pool: ${kilnMatches.free} free, ${matching} match all six criteria, ${kilnMatches.withoutFacts} without facts; wrk -t2, pgbench -j2 -M prepared, ${C} connections each\n`);
      console.log(table(out));
      console.log(
        `\nlease with criteria / without: Kiln ${(byName("Kiln POST /leases (1 host), 6") / byName("Kiln POST /leases (1 host), no")).toFixed(2)}, raw SQL ${(byName("raw SQL: UPDATE … SKIP LOCKED, 6") / byName("raw SQL: UPDATE … SKIP LOCKED, no")).toFixed(2)} (req/s)`,
      );
      console.log(`load average at the end: ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`);
    } finally {
      await sql.end({ timeout: 5 });
    }
  } finally {
    await k.stop();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
