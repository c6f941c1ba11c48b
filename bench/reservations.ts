// One file: one bench script read top to bottom; its request lists, wrk Lua and pgbench baseline
// serve the one comparison it prints.
// `npm run bench:reservations`: advance reservations (issue 16) on a pool of 200 hosts, each Kiln
// row beside the same admissions done by ONE raw SQL statement each, in the same run on the same
// database:
//
//   admission  — 1,000 reservations spread over the next month (deterministic: a start on a
//                quarter-hour of the month, 1–48 h long, 1–8 hosts, five projects without quotas),
//                POST /api/v1/reservations driven by Debian's wrk (-t2, a Lua script that walks the
//                pre-generated bodies, one per request, and counts 201s and refusals); baseline: the
//                same list, the same concurrency, driven by pgbench, each admission one statement (a
//                CTE: pick `count` hosts of the pool with no overlapping booking or maintenance
//                window, FOR UPDATE SKIP LOCKED, insert the reservation, its hosts and its bookings,
//                all or nothing).
//   contention — 200 requests at once for the SAME interval (935 hosts asked of 200): wrk -c200, one
//                request per connection; baseline: pgbench with as many connections as the server
//                has to spare (50 with the defaults). Then no host may be booked twice.
//
// Every row starts from the same state (reservations deleted, VACUUM ANALYZE). After every row the
// database is checked: overlapping bookings of one host (host_bookings self-join; the exclusion
// constraint should make this 0), hosts promised to two reservations whose times overlap
// (reservation_hosts, independently of host_bookings), reservations without exactly `count` hosts
// and bookings, and for the contention row the hosts admitted against the hosts free. Before the
// rows the bench runs samples one request at a time through both and requires the same answers.
//
// Options: --hosts 200 --reservations 1000 --connections 20 --contention 200 --projects 5;
// --only admission|contention; --baseline-only (the raw SQL rows on a bare migrated database).
// Needs wrk and pgbench (bash scripts/ensure-deps.sh --bench). See bench/README.md.
import { execFile, spawn } from "node:child_process";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs, promisify } from "node:util";
import postgres from "postgres";
import { createDb } from "@/db/client";
import { insertBenchUser } from "@/db/queries/bench";
import { insertHosts, insertInterfaces } from "@/db/queries/hosts";
import { SYSTEM } from "@/lib/access/actor";
import { getProcessEnv, setEnvForProcess } from "@/lib/env";
import { createPool } from "@/lib/pools/pools";
import { createProject } from "@/lib/projects/projects";
import { startEmbeddedPostgres } from "@/lib/runtime/embedded-postgres";
import { runMigrations } from "@/lib/runtime/migrations";
import { benchApi, startBenchKiln, type BenchKiln } from "./kiln";
import { luaString, runPgbench, table } from "./load-tools";

const run = promisify(execFile);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function options() {
  const { values } = parseArgs({
    options: {
      hosts: { type: "string", default: "200" },
      reservations: { type: "string", default: "1000" },
      connections: { type: "string", default: "20" },
      contention: { type: "string", default: "200" },
      projects: { type: "string", default: "5" },
      // Only the raw SQL rows, on a bare embedded PostgreSQL (migrated, no Kiln started).
      "baseline-only": { type: "boolean", default: false },
      // One phase only: admission or contention.
      only: { type: "string" },
    },
  });
  const num = (k: keyof typeof values) => {
    const n = Number(values[k]);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${k} must be a positive integer (got ${values[k]}).`);
    return n;
  };
  const o = {
    hosts: num("hosts"),
    reservations: num("reservations"),
    connections: num("connections"),
    contention: num("contention"),
    projects: num("projects"),
    baselineOnly: values["baseline-only"],
    only: values.only,
  };
  if (o.only !== undefined && o.only !== "admission" && o.only !== "contention") throw new Error(`--only is admission or contention (got ${o.only}).`);
  // pgbench runs a fixed count per connection: the list must split evenly.
  if (o.reservations % o.connections) throw new Error(`--reservations (${o.reservations}) must be a multiple of --connections (${o.connections}).`);
  if (o.hosts < 8) throw new Error("--hosts must be at least 8 (the samples take 4 hosts out for maintenance).");
  return o;
}

/** mulberry32: the same requests on every run. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---- the requests ---------------------------------------------------------------------------

/** One reservation request; `n` numbers it in bench.requests, where the baseline reads it. */
type Req = { n: number; project: number; count: number; startsAt: Date; endsAt: Date };

// Numbering in bench.requests: the admission list, the contention list, the sample of edges.
const ADMISSION_FROM = 1;
const CONTENTION_FROM = 100_001;
const EDGES_FROM = 200_001;

/** The month's list: a start on a quarter-hour of the 30 days after `base`, 1–48 h, 1–8 hosts. */
function admissionRequests(base: number, count: number, projects: number): Req[] {
  const rand = prng(16);
  return Array.from({ length: count }, (_, i) => {
    const startsAt = base + Math.floor(rand() * 30 * 96) * 15 * 60_000;
    const hours = 1 + Math.floor(rand() * 48);
    return { n: ADMISSION_FROM + i, project: i % projects, count: 1 + Math.floor(rand() * 8), startsAt: new Date(startsAt), endsAt: new Date(startsAt + hours * HOUR) };
  });
}

/** Everyone wants the same day: 09:00–18:00 of day 35 (after the month), 1–8 hosts each. */
function contentionRequests(base: number, count: number, projects: number): Req[] {
  const rand = prng(1616);
  const startsAt = new Date(base + 35 * DAY + 9 * HOUR);
  const endsAt = new Date(startsAt.getTime() + 9 * HOUR);
  return Array.from({ length: count }, (_, i) => ({ n: CONTENTION_FROM + i, project: i % projects, count: 1 + Math.floor(rand() * 8), startsAt, endsAt }));
}

/** Where the edges sample puts its maintenance: `MAINTAINED` hosts, days 10–12. */
const MAINTAINED = 4;
const maintenanceOf = (base: number) => ({ startsAt: new Date(base + 10 * DAY), endsAt: new Date(base + 12 * DAY) });

/**
 * Requests whose answers do not depend on which hosts a policy picks, run in this order from an
 * empty calendar (with `MAINTAINED` hosts in maintenance on days 10–12), and what each must get.
 */
function edgeRequests(base: number, hosts: number): { req: Req; admit: boolean; why: string }[] {
  const x = base + 40 * DAY;
  const w = maintenanceOf(base);
  const free = hosts - MAINTAINED;
  const req = (i: number, count: number, startsAt: number, endsAt: number): Req => ({ n: EDGES_FROM + i, project: i % 2, count, startsAt: new Date(startsAt), endsAt: new Date(endsAt) });
  return [
    { req: req(0, hosts, x, x + 2 * HOUR), admit: true, why: "the whole pool for 2 h" },
    { req: req(1, 1, x + HOUR, x + 3 * HOUR), admit: false, why: "one host in the second of those hours" },
    { req: req(2, 1, x + 2 * HOUR, x + 3 * HOUR), admit: true, why: "one host from the end of those 2 h (ranges are half-open)" },
    { req: req(3, 1, x - HOUR, x + 60_000), admit: false, why: "one host overlapping the start by a minute" },
    { req: req(4, hosts + 1, x + 5 * DAY, x + 5 * DAY + HOUR), admit: false, why: "one host more than the pool has" },
    { req: req(5, free + 1, w.startsAt.getTime() + HOUR, w.startsAt.getTime() + 5 * HOUR), admit: false, why: "one host more than maintenance leaves" },
    { req: req(6, free, w.startsAt.getTime() - HOUR, w.startsAt.getTime() + HOUR), admit: true, why: "every host maintenance leaves, across its start" },
    { req: req(7, 1, w.startsAt.getTime(), w.startsAt.getTime() + HOUR), admit: false, why: "one more host at that time" },
    { req: req(8, MAINTAINED, w.endsAt.getTime(), w.endsAt.getTime() + HOUR), admit: true, why: `${MAINTAINED} hosts from the end of maintenance` },
  ];
}

// ---- the baseline: one statement per admission ----------------------------------------------

// The bench's own schema in Kiln's database: the requests (so pgbench reads the same list), the
// counter that hands them out, and the admission statement. `bench.admit` is a thin plpgsql
// wrapper around that ONE statement for one reason: when two admissions race for a host, the
// loser's statement (its snapshot taken before the winner's commit, the host's row lock already
// released) fails on the exclusion constraint (23P01), and pgbench 15 aborts a client on any error
// but a serialization failure or deadlock. The wrapper runs the statement again (a new snapshot)
// up to 5 times, so a refusal means "no capacity", not "lost a race", and counts the retries
// (bench.conflicts).
const BASELINE_SCHEMA = `
create schema bench;
create table bench.requests (n int primary key, pool_id uuid not null, project_id uuid not null, user_id uuid not null, count int not null, starts_at timestamptz not null, ends_at timestamptz not null, title text not null);
create sequence bench.next_request;
create sequence bench.conflicts;
create function bench.admit(req int) returns int language plpgsql as $$
declare
  admitted int;
begin
  for attempt in 1..5 loop
    begin
      with r as materialized (
        select * from bench.requests where n = req
      ), picked as (
        -- A host is free for [starts_at, ends_at) when it is in the pool, can be given to someone, and
        -- no booking (lease or reservation) and no maintenance window (of the host or its pool)
        -- overlaps that time. Locked with SKIP LOCKED so concurrent admissions take different hosts.
        select h.id from hosts h, r
        where h.pool_id = r.pool_id and h.state in (HOST_STATES)
          and not exists (select 1 from host_bookings b where b.host_id = h.id and b.during && tstzrange(r.starts_at, r.ends_at))
          and not exists (select 1 from maintenance_windows m where (m.host_id = h.id or m.pool_id = r.pool_id) and m.starts_at < r.ends_at and m.ends_at > r.starts_at)
        order by h.name
        limit (select count from r)
        for update of h skip locked
      ), ok as (
        -- All or nothing: only when every host asked for was found.
        select r.* from r where (select count(*) from picked) = r.count
      ), reservation as (
        insert into reservations (project_id, user_id, created_by_user_id, pool_id, title, count, starts_at, ends_at, prepare_from)
        select project_id, user_id, user_id, pool_id, title, count, starts_at, ends_at, starts_at from ok
        returning id, starts_at, ends_at
      ), promised as (
        insert into reservation_hosts (reservation_id, host_id) select reservation.id, picked.id from reservation, picked
      ), booked as (
        insert into host_bookings (host_id, during, reservation_id) select picked.id, tstzrange(reservation.starts_at, reservation.ends_at), reservation.id from reservation, picked
      )
      select count(*) into admitted from reservation;
      return admitted;
    exception when exclusion_violation then
      perform nextval('bench.conflicts');
    end;
  end loop;
  return 0;
end $$;
`;

/** Host states a reservation may take (Kiln's RESERVABLE_HOST_STATES, db/queries/reservations.ts). */
const HOST_STATES = ["available", "leased", "releasing"];

// ---- load tools ----------------------------------------------------------------------------

type Result = {
  requests: number;
  admitted: number;
  refused: number;
  errors: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  codes: Record<string, number>;
  /** wrk: answers per whole second of the run. */
  perSecond?: number[];
  sample?: string;
};

/**
 * wrk over a fixed list of request bodies, each sent once: thread t of T sends bodies t, t+T, …
 * (`delay()` holds every connection back once its thread has sent its share), counts the answers
 * by status (201 admitted; 409/403/422 refused, by error code; anything else an error), and stops
 * when its share is answered. wrk's main thread sleeps for -d regardless, so the bench sends it
 * SIGINT once every thread said DONE; the run's duration is then wrk's own, to the last answer.
 */
async function wrkList(k: BenchKiln, bodies: string[], o: { threads: number; connections: number }): Promise<Result> {
  const file = path.join(os.tmpdir(), `kiln-bench-reservations-${process.pid}.lua`);
  await fsp.writeFile(
    file,
    `local bodies = {
${bodies.map((b) => `  ${luaString(b)},`).join("\n")}
}
local T = ${o.threads}
local path = "/api/v1/reservations"
local hdrs = { ["authorization"] = ${luaString(`Bearer ${k.token}`)}, ["content-type"] = "application/json" }
local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
function init(args)
  quota = 0
  for i = tid + 1, #bodies, T do quota = quota + 1 end
  gated, nextBody, answered = 0, tid + 1, 0
  admitted, refused, other = 0, 0, 0
  codes = {}
  -- When the answers came, by whole seconds since the thread started (os.time: no finer clock in wrk's Lua).
  started, secs = os.time(), {}
  -- wrk calls request() once on thread 0 to check the request parses, before any connection.
  checked = tid ~= 0
end
function delay()
  if gated < quota then
    gated = gated + 1
    return 0
  end
  return 3600000
end
function request()
  if not checked then
    checked = true
    return wrk.format("POST", path, hdrs, bodies[1])
  end
  local b = bodies[nextBody]
  nextBody = nextBody + T
  return wrk.format("POST", path, hdrs, b)
end
function response(status, headers, body)
  if status == 201 then
    admitted = admitted + 1
  elseif status == 409 or status == 403 or status == 422 then
    refused = refused + 1
    local code = string.match(body, '"code"%s*:%s*"([%w_]+)"') or tostring(status)
    codes[code] = (codes[code] or 0) + 1
  else
    other = other + 1
    if other <= 3 then io.write("ERR " .. status .. " " .. string.gsub(string.sub(body, 1, 300), "\\n", " ") .. "\\n") end
  end
  answered = answered + 1
  local s = os.time() - started
  secs[s] = (secs[s] or 0) + 1
  if answered == quota then
    local parts, when = {}, {}
    for c, n in pairs(codes) do table.insert(parts, c .. "=" .. n) end
    for t, n in pairs(secs) do table.insert(when, t .. "=" .. n) end
    io.write("SECS " .. tid .. " " .. table.concat(when, ",") .. "\\n")
    io.write("DONE " .. tid .. " " .. table.concat(parts, ",") .. "\\n")
    io.flush()
    wrk.thread:stop()
  end
end
function done(summary, latency, requests)
  local a, r, o = 0, 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("admitted")
    r = r + t:get("refused")
    o = o + t:get("other")
  end
  io.write(string.format('{"requests":%d,"duration_us":%d,"admitted":%d,"refused":%d,"other":%d,"errors":%d,"p50_us":%d,"p99_us":%d}\\n', summary.requests, summary.duration,
    a, r, o, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, latency:percentile(50), latency:percentile(99)))
end
`,
  );
  try {
    const child = spawn("wrk", [`-t${o.threads}`, `-c${o.connections}`, "-d600s", "--timeout", "60s", "-s", file, k.base], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let interrupt: NodeJS.Timeout | undefined;
    child.stderr.on("data", (d) => (stderr += d));
    child.stdout.on("data", (d: Buffer) => {
      stdout += d;
      const done = stdout.match(/^DONE /gm)?.length ?? 0;
      // A signal may land on a worker thread rather than wrk's sleeping main thread: repeat it until wrk exits.
      if (done >= o.threads && !interrupt) interrupt = setInterval(() => child.kill("SIGINT"), 100);
    });
    // "close", not "exit": the result line may still be in the pipe when the process has exited.
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    clearInterval(interrupt);
    const line = stdout.trim().split("\n").findLast((l) => l.startsWith("{"));
    if (!line) throw new Error(`wrk (exit ${code}) printed no result:\n${stdout}\n${stderr}`);
    const w = JSON.parse(line) as { requests: number; duration_us: number; admitted: number; refused: number; other: number; errors: number; p50_us: number; p99_us: number };
    const codes: Record<string, number> = {};
    for (const m of stdout.matchAll(/^DONE \d+ (.*)$/gm)) {
      for (const part of m[1]!.split(",").filter(Boolean)) {
        const [c, n] = part.split("=");
        codes[c!] = (codes[c!] ?? 0) + Number(n);
      }
    }
    const perSecond: number[] = [];
    for (const m of stdout.matchAll(/^SECS \d+ (.*)$/gm)) {
      for (const part of m[1]!.split(",").filter(Boolean)) {
        const [t, n] = part.split("=").map(Number);
        while (perSecond.length <= t!) perSecond.push(0);
        perSecond[t!]! += n!;
      }
    }
    const seconds = w.duration_us / 1e6;
    return {
      perSecond,
      requests: w.requests,
      admitted: w.admitted,
      refused: w.refused,
      errors: w.other + w.errors + (bodies.length - w.requests),
      seconds,
      rps: w.requests / seconds,
      p50: w.p50_us / 1000,
      p99: w.p99_us / 1000,
      codes,
      sample: stdout.match(/^ERR .*$/m)?.[0],
    };
  } finally {
    await fsp.rm(file, { force: true });
  }
}

/** pgbench: `transactions` admissions on each of `connections`, each one `select bench.admit(next request)`. */
async function pgbenchList(url: string, o: { connections: number; transactions: number }): Promise<Omit<Result, "admitted" | "refused" | "codes">> {
  const r = await runPgbench(url, { script: "select bench.admit(nextval('bench.next_request')::int);", connections: o.connections, length: ["-t", String(o.transactions)] });
  // pgbench's rate leaves out connecting (its clients connect first); wrk's includes it, but on
  // keep-alive connections made once per run either way it is a few ms of a run of seconds.
  return { requests: r.done, errors: r.failed + (o.connections * o.transactions - r.done), seconds: r.done / r.tps, rps: r.tps, p50: r.p50, p99: r.p99, sample: `wall ${r.wallSeconds.toFixed(1)} s` };
}

// ---- the checks ------------------------------------------------------------------------------

type Check = { admitted: number; hostsBooked: number; overlappingBookings: number; sharedHosts: number; incomplete: number };

/** What the database holds after a row; every count but the first two must be 0. */
async function checkCalendar(sql: postgres.Sql): Promise<Check> {
  const [row] = await sql`
    select
      (select count(*)::int from reservations) as admitted,
      (select count(*)::int from host_bookings where reservation_id is not null) as hosts_booked,
      -- Two bookings of one host whose times overlap (the exclusion constraint forbids them).
      (select count(*)::int from host_bookings a join host_bookings b on b.host_id = a.host_id and b.id > a.id and b.during && a.during) as overlapping_bookings,
      -- One host promised to two reservations whose times overlap, read from reservation_hosts
      -- alone: a check of the promise itself, not of the bookings that should mirror it.
      (select count(*)::int from reservation_hosts x
         join reservations r on r.id = x.reservation_id
         join reservation_hosts y on y.host_id = x.host_id and y.reservation_id > x.reservation_id
         join reservations s on s.id = y.reservation_id
         where x.replaced_at is null and y.replaced_at is null
           and r.state not in ('cancelled', 'ended', 'failed') and s.state not in ('cancelled', 'ended', 'failed')
           and r.prepare_from < s.ends_at and s.prepare_from < r.ends_at) as shared_hosts,
      -- All or nothing: a reservation with other than \`count\` hosts, or bookings, is a partial admission.
      (select count(*)::int from reservations r
         where r.count <> (select count(*) from reservation_hosts x where x.reservation_id = r.id and x.replaced_at is null)
            or r.count <> (select count(*) from host_bookings b where b.reservation_id = r.id)) as incomplete`;
  return { admitted: row!.admitted, hostsBooked: row!.hosts_booked, overlappingBookings: row!.overlapping_bookings, sharedHosts: row!.shared_hosts, incomplete: row!.incomplete };
}

// ---- the run ---------------------------------------------------------------------------------

type Row = { name: string; tool: string; r: Result; check: Check; conflicts?: number; waits?: string; loadStart: number; loadEnd: number; base?: Row };

/** Where the bench runs: Kiln as `npm start` runs it, or (--baseline-only) a bare migrated database. */
type Target = { kiln?: BenchKiln; url: string; poolId: string; projects: string[]; userId: string; stop(): Promise<void> };

async function openTarget(o: ReturnType<typeof options>): Promise<Target> {
  if (!o.baselineOnly) {
    process.stderr.write("starting Kiln (npm start's launcher, embedded PostgreSQL)…\n");
    const k = await startBenchKiln("reservations", { KILN_POWER_POLL_SECONDS: "0" });
    try {
      const pg = await startEmbeddedPostgres(path.join(k.dataDir, "postgres"), { attachIfRunning: true });
      const pool = await benchApi<{ id: string }>(k, "POST", "/api/v1/pools", { name: "reservations" }, 201);
      const projects: string[] = [];
      for (let i = 0; i < o.projects; i++) {
        const p = await benchApi<{ id: string }>(k, "POST", "/api/v1/projects", { name: `reservations-${i + 1}` }, 201);
        await benchApi(k, "POST", `/api/v1/projects/${p.id}/members`, { email: k.email }, 201);
        projects.push(p.id);
      }
      const s = postgres(pg.url, { max: 1 });
      const [admin] = await s`select id from users where email = ${k.email}`;
      await s.end();
      return { kiln: k, url: pg.url, poolId: pool.id, projects, userId: admin!.id, stop: () => k.stop() };
    } catch (e) {
      await k.stop();
      throw e;
    }
  }
  setEnvForProcess({ LOG_LEVEL: getProcessEnv().LOG_LEVEL ?? "silent" });
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), "kiln-bench-reservations-"));
  // The embedded PostgreSQL runs as the postgres user when we are root: it must reach its directory.
  await fsp.chmod(dir, 0o711);
  process.stderr.write(`starting an embedded PostgreSQL in ${dir} (baseline only, no Kiln)…\n`);
  const pg = await startEmbeddedPostgres(path.join(dir, "postgres"));
  const stop = async () => {
    await pg.stop();
    await fsp.rm(dir, { recursive: true, force: true });
  };
  try {
    await runMigrations(pg.url);
    const { db, close } = createDb(pg.url, { max: 2 });
    try {
      const pool = await createPool(db, SYSTEM, { name: "reservations" });
      const projects: string[] = [];
      for (let i = 0; i < o.projects; i++) projects.push((await createProject(db, SYSTEM, { name: `reservations-${i + 1}` })).id);
      const userId = await insertBenchUser(db);
      return { url: pg.url, poolId: pool.id, projects, userId, stop };
    } finally {
      await close();
    }
  } catch (e) {
    await stop();
    throw e;
  }
}

async function main(): Promise<void> {
  const o = options();
  for (const bin of ["wrk", "pgbench"]) {
    if (!(await run("sh", ["-c", `command -v ${bin}`]).then(() => true, () => false))) throw new Error(`${bin} is missing: bash scripts/ensure-deps.sh --bench.`);
  }
  const target = await openTarget(o);
  const k = target.kiln;
  try {
    const sql = postgres(target.url, { max: 1, onnotice: () => {} });
    try {
      const pool = { id: target.poolId };
      const { projects, userId } = target;
      const pg = { url: target.url };

      process.stderr.write(`seeding ${o.hosts} hosts…\n`);
      const { db, close } = createDb(pg.url, { max: 2 });
      const hosts = await insertHosts(
        db,
        Array.from({ length: o.hosts }, (_, i) => ({ name: `rsv-${String(i).padStart(4, "0")}`, state: "available" as const, poolId: pool.id, cpuCores: 32, memoryMb: 131072 })),
      );
      await insertInterfaces(
        db,
        hosts.map((h, i) => ({ hostId: h.id, mac: `02:c1:16:00:${((i >> 8) & 255).toString(16).padStart(2, "0")}:${(i & 255).toString(16).padStart(2, "0")}`, isPxe: true })),
      );
      await close();

      // Tomorrow, on the hour: every request starts in the future, whatever the bench's own duration.
      const base = Math.ceil(Date.now() / HOUR) * HOUR + DAY;
      const admission = admissionRequests(base, o.reservations, o.projects);
      const contention = contentionRequests(base, o.contention, o.projects);
      const edges = edgeRequests(base, o.hosts);
      const bodyOf = (r: Req) =>
        JSON.stringify({ poolId: pool.id, projectId: projects[r.project], count: r.count, startsAt: r.startsAt.toISOString(), endsAt: r.endsAt.toISOString(), title: `bench #${r.n}` });

      await sql.unsafe(BASELINE_SCHEMA.replace("HOST_STATES", HOST_STATES.map((s) => `'${s}'`).join(", ")));
      const all = [...admission, ...contention, ...edges.map((e) => e.req)];
      for (let i = 0; i < all.length; i += 1000) {
        const rows = all.slice(i, i + 1000).map((r) => ({ n: r.n, pool_id: pool.id, project_id: projects[r.project]!, user_id: userId, count: r.count, starts_at: r.startsAt, ends_at: r.endsAt, title: `bench #${r.n}` }));
        await sql`insert into bench.requests ${sql(rows)}`;
      }

      const reset = async (from = ADMISSION_FROM) => {
        // Every row's requests are answered before it ends, but wait for any session still busy
        // (a request wrk gave up on) so the delete does not meet a half-done admission.
        const deadline = Date.now() + 120_000;
        for (;;) {
          const [busy] = await sql`select count(*)::int as n from pg_stat_activity
            where datname = current_database() and pid <> pg_backend_pid() and state in ('active', 'idle in transaction') and query not ilike '%listen%'`;
          if (busy!.n === 0 || Date.now() > deadline) break;
          await new Promise((r) => setTimeout(r, 250));
        }
        await sql`delete from reservations`;
        await sql`delete from maintenance_windows`;
        await sql`delete from audit_log`;
        await sql`vacuum analyze reservations, reservation_hosts, host_bookings, maintenance_windows, hosts, audit_log`;
        await sql`select setval('bench.next_request', ${from}, false)`;
        await sql`select setval('bench.conflicts', 1, false)`;
      };
      const conflicts = async () => Number((await sql`select last_value, is_called from bench.conflicts`).map((r) => (r.is_called ? Number(r.last_value) : 0))[0]);
      const maintain = async () => {
        const w = maintenanceOf(base);
        for (const h of hosts.slice(0, MAINTAINED)) await sql`insert into maintenance_windows (host_id, starts_at, ends_at, reason) values (${h.id}, ${w.startsAt}, ${w.endsAt}, 'bench')`;
      };
      const kilnOnce = async (r: Req): Promise<{ admitted: boolean; status: number; body: string }> => {
        if (!k) throw new Error("no Kiln in --baseline-only");
        const res = await fetch(`${k.base}/api/v1/reservations`, { method: "POST", headers: { authorization: `Bearer ${k.token}`, "content-type": "application/json" }, body: bodyOf(r) });
        const body = await res.text();
        // 409 no capacity (or a race Kiln gave up on), 403 a quota; 400 only for a count larger than the pool.
        const refused = res.status === 409 || res.status === 403 || res.status === 422 || (res.status === 400 && /"count"/.test(body));
        if (res.status !== 201 && !refused) throw new Error(`POST /api/v1/reservations (request ${r.n}): ${res.status} ${body.slice(0, 500)}`);
        return { admitted: res.status === 201, status: res.status, body };
      };
      const rawOnce = async (r: Req) => (await sql`select bench.admit(${r.n}) as admitted`)[0]!.admitted === 1;

      // The baseline must admit what Kiln admits, or its speed means nothing. One request at a
      // time, from an empty calendar each: (1) the edges, whose answers do not depend on which
      // hosts a policy picks; (2) the first SAMPLE requests of the month's list.
      const SAMPLE = Math.min(100, admission.length);
      const sides = k ? (["Kiln", "raw SQL"] as const) : (["raw SQL"] as const);
      for (const side of sides) {
        await reset();
        await maintain();
        for (const e of edges) {
          const got = side === "Kiln" ? (await kilnOnce(e.req)).admitted : await rawOnce(e.req);
          if (got !== e.admit) throw new Error(`${side} ${got ? "admitted" : "refused"} ${e.why} (request ${e.req.n}), which it should have ${e.admit ? "admitted" : "refused"}`);
        }
      }
      const outcomes: Record<string, boolean[]> = {};
      for (const side of sides) {
        await reset();
        outcomes[side] = [];
        for (const r of admission.slice(0, SAMPLE)) outcomes[side].push(side === "Kiln" ? (await kilnOnce(r)).admitted : await rawOnce(r));
        const check = await checkCalendar(sql);
        if (check.overlappingBookings || check.sharedHosts || check.incomplete) throw new Error(`${side}'s sample left a double booking or a partial reservation: ${JSON.stringify(check)}`);
      }
      const differ = k ? outcomes["Kiln"]!.flatMap((a, i) => (a !== outcomes["raw SQL"]![i] ? [admission[i]!.n] : [])) : [];
      if (differ.length) throw new Error(`Kiln and the raw SQL answered differently, one at a time, for requests ${differ.join(", ")}`);
      const sampleAdmitted = outcomes["raw SQL"]!.filter(Boolean).length;
      process.stderr.write(`samples agree: ${edges.length} edges (${edges.filter((e) => e.admit).length} admitted), first ${SAMPLE} of the month (${sampleAdmitted} admitted)\n`);

      const rows: Row[] = [];
      // What the database's other sessions are doing during a row, sampled twice a second from
      // pg_stat_activity: where a slow row's time goes (running, waiting on a lock, idle in a
      // transaction while the application does something else).
      const watch = () => {
        const seen = new Map<string, number>();
        let samples = 0;
        let stop = false;
        const loop = (async () => {
          const s = postgres(pg.url, { max: 1, onnotice: () => {} });
          try {
            while (!stop) {
              const rows = await s`select state, coalesce(wait_event_type || ':' || wait_event, 'cpu') as wait, count(*)::int as n from pg_stat_activity
                where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend' and state <> 'idle' group by 1, 2`;
              samples++;
              for (const r of rows) seen.set(`${r.state} ${r.wait}`, (seen.get(`${r.state} ${r.wait}`) ?? 0) + r.n);
              await new Promise((r) => setTimeout(r, 500));
            }
          } finally {
            await s.end({ timeout: 5 });
          }
        })();
        return async () => {
          stop = true;
          await loop;
          return [...seen].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([what, n]) => `${what} ${(n / Math.max(1, samples)).toFixed(1)}`).join(", ");
        };
      };
      const measure = async (name: string, tool: string, f: () => Promise<Result>, base?: Row) => {
        const loadStart = os.loadavg()[0]!;
        const stopWatch = watch();
        const r = await f();
        const waits = await stopWatch();
        const loadEnd = os.loadavg()[0]!;
        const check = await checkCalendar(sql);
        const row: Row = { name, tool, r, check, waits, loadStart, loadEnd, base, conflicts: tool.startsWith("pgbench") ? await conflicts() : undefined };
        rows.push(row);
        process.stderr.write(`${name}: ${r.requests} requests, ${r.admitted} admitted, ${r.refused} refused, ${r.errors} errors, ${r.rps.toFixed(0)}/s, p99 ${r.p99.toFixed(0)} ms; ${JSON.stringify(check)}${r.sample ? ` (${r.sample})` : ""}\n`);
        if (r.admitted !== check.admitted) process.stderr.write(`  ! ${name}: the load tool counted ${r.admitted} admitted, the database holds ${check.admitted}\n`);
        return row;
      };
      const rawResult = async (connections: number, transactions: number): Promise<Result> => {
        const r = await pgbenchList(pg.url, { connections, transactions });
        const admitted = (await checkCalendar(sql)).admitted;
        return { ...r, admitted, refused: r.requests - admitted, codes: {} };
      };
      const C = o.connections;

      // 1. Admission: the month's list at C connections.
      if (o.only !== "contention") {
        await reset(ADMISSION_FROM);
        const rawAdmission = await measure(`raw SQL: 1 statement per admission`, `pgbench -c${C}`, () => rawResult(C, o.reservations / C));
        if (k) await reset(ADMISSION_FROM);
        if (k) await measure(`Kiln POST /reservations`, `wrk -t2 -c${C}`, () => wrkList(k, admission.map(bodyOf), { threads: 2, connections: C }), rawAdmission);
      }

      // 2. Contention: everyone at once for the same day. pgbench gets as many connections as the
      // server has to spare beside Kiln's own pools (max_connections, 100 for the embedded server).
      const [conn] = await sql`select current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int - (select count(*)::int from pg_stat_activity where backend_type = 'client backend') as spare`;
      const spare = conn!.spare - 25; // Kiln's web and worker pools may open more under load.
      const P = [100, 50, 40, 25, 20, 10, 8, 5, 4, 2, 1].find((c) => c <= spare && o.contention % c === 0) ?? 1;
      const free = o.hosts; // no maintenance on that day
      const asked = contention.reduce((s, r) => s + r.count, 0);
      const contentionHosts = async () => Number((await sql`select coalesce(sum(count), 0)::int as n from reservations`)[0]!.n);
      let rawContentionHosts = 0;
      let kilnContentionHosts = 0;
      if (o.only !== "admission") {
        await reset(CONTENTION_FROM);
        const rawContention = await measure(`raw SQL: ${o.contention} at once, same day`, `pgbench -c${P}`, () => rawResult(P, o.contention / P));
        rawContentionHosts = await contentionHosts();
        if (k) await reset(CONTENTION_FROM);
        if (k) await measure(`Kiln: ${o.contention} at once, same day`, `wrk -t2 -c${o.contention}`, () => wrkList(k, contention.map(bodyOf), { threads: 2, connections: o.contention }), rawContention);
        if (k) kilnContentionHosts = await contentionHosts();
      }
      await reset();

      const f = (n: number, d = 0) => n.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
      const out = [["row", "tool", "requests", "admitted", "refused", "errors", "p50 ms", "p99 ms", "req/s", "Kiln/raw req/s", "p99 Kiln/raw", "double bookings", "load start→end"]];
      for (const r of rows) {
        out.push([
          r.name,
          r.tool,
          f(r.r.requests),
          f(r.r.admitted),
          f(r.r.refused),
          f(r.r.errors),
          f(r.r.p50, 1),
          f(r.r.p99, 1),
          f(r.r.rps, 1),
          r.base ? (r.r.rps / r.base.r.rps).toFixed(3) : "—",
          r.base ? `${(r.r.p99 / r.base.r.p99).toFixed(1)}×` : "—",
          String(r.check.overlappingBookings + r.check.sharedHosts),
          `${r.loadStart.toFixed(1)}→${r.loadEnd.toFixed(1)}`,
        ]);
      }
      console.log(`\nreservations — ${new Date().toISOString().slice(0, 16)}Z, nproc ${os.cpus().length} (${os.cpus()[0]?.model ?? "?"}), embedded PostgreSQL, ${o.hosts} hosts in one pool, ${o.projects} projects without quotas`);
      console.log(`admission: ${o.reservations} requests over 30 days (1–48 h, 1–8 hosts; ${admission.reduce((s, r) => s + r.count, 0)} hosts asked); contention: ${o.contention} requests for one 9-hour day, ${asked} hosts asked of ${free}`);
      console.log(`samples, one at a time, ${k ? "Kiln = raw SQL" : "raw SQL only (--baseline-only)"}: ${edges.length} edges, the month's first ${SAMPLE} requests (${sampleAdmitted} admitted)\n`);
      console.log(table(out));
      console.log(`\nKiln/raw req/s: Kiln's rate divided by the baseline's (below 1: Kiln slower). p99 Kiln/raw: Kiln's p99 latency divided by the baseline's (above 1: Kiln slower).`);
      console.log(`double bookings: overlapping pairs of one host in host_bookings + hosts promised to two overlapping reservations in reservation_hosts.`);
      for (const r of rows) {
        const extra = [`${r.check.hostsBooked} hosts booked`, `${r.check.incomplete} partial reservations`];
        if (r.conflicts !== undefined) extra.push(`${r.conflicts} statements lost a race on the exclusion constraint and were run again`);
        if (Object.keys(r.r.codes).length) extra.push(`refusals: ${Object.entries(r.r.codes).map(([c, n]) => `${c} ${n}`).join(", ")}`);
        if (r.r.sample && r.tool.startsWith("wrk")) extra.push(`first error: ${r.r.sample}`);
        if (r.r.perSecond) extra.push(`answers per second of the run: ${r.r.perSecond.join(" ")}`);
        if (r.waits) extra.push(`busy sessions on average (state, wait): ${r.waits}`);
        console.log(`${r.name}: ${extra.join("; ")}`);
      }
      if (o.only !== "admission") console.log(`contention, hosts admitted of ${free} free: raw SQL ${rawContentionHosts}, Kiln ${k ? kilnContentionHosts : "—"}${Math.max(rawContentionHosts, kilnContentionHosts) > free ? "  ← MORE THAN FREE" : ""}`);
      console.log(`load average at the end: ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`);
      const bad = rows.filter((r) => r.check.overlappingBookings || r.check.sharedHosts || r.check.incomplete);
      if (bad.length || Math.max(rawContentionHosts, kilnContentionHosts) > free) {
        console.error(`DOUBLE BOOKING OR PARTIAL ADMISSION in: ${bad.map((r) => r.name).join(", ") || "contention"}`);
        process.exitCode = 1;
      }
    } finally {
      await sql.end({ timeout: 5 });
    }
  } finally {
    await target.stop();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
