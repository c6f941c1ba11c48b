// `npm run bench:leases`: how fast Kiln grants leases under contention, against the fastest
// thing PostgreSQL can do for the same job, measured in the same run on the same table.
//
//   raw   — one statement per grant: UPDATE hosts SET state = 'leased' WHERE id = (SELECT …
//           LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id. No lease row, no quota, no audit.
//   Kiln  — createLease(count 1) from lib/leases: project lock, quota checks, host pick,
//           lease + lease_hosts + events + audit rows, then the view the API returns.
//
// Each phase starts from the same state (all hosts available, lease tables empty, vacuumed);
// every client loops until the pool is exhausted. See bench/README.md for how to read it.
//
// Options: --hosts 2000 --clients 200 --connections 50 --projects 20
// Uses DATABASE_URL when it points at this machine, else an embedded PostgreSQL in a temp
// directory (removed afterwards); either way in a fresh database that is dropped at the end.
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { createDb, type Db } from "@/db/client";
import { countLeasedHosts, getServerVersion, grantHostRaw, holdConnection, insertBenchHosts, insertBenchMemberships, insertBenchUsers, resetLeaseBench } from "@/db/queries/bench";
import { getUserById } from "@/db/queries/users";
import type { ProjectRow } from "@/db/schema";
import { SYSTEM } from "@/lib/access/actor";
import { isAppError } from "@/lib/errors";
import { getProcessEnv, setEnvForProcess } from "@/lib/env";
import { createLease } from "@/lib/leases/leases";
import { createPool } from "@/lib/pools/pools";
import { createProject } from "@/lib/projects/projects";
import { startEmbeddedPostgres } from "@/lib/runtime/embedded-postgres";
import { runMigrations } from "@/lib/runtime/migrations";

const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

type Phase = { name: string; grants: number; seconds: number; latenciesMs: number[] };

function options() {
  const { values } = parseArgs({
    options: {
      hosts: { type: "string", default: "2000" },
      clients: { type: "string", default: "200" },
      connections: { type: "string", default: "50" },
      projects: { type: "string", default: "20" },
    },
  });
  const num = (name: keyof typeof values) => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer (got ${values[name]}).`);
    return n;
  };
  return { hosts: num("hosts"), clients: num("clients"), connections: num("connections"), projects: num("projects") };
}

/** A server to create the bench database on: a local DATABASE_URL, else a throwaway embedded one. */
async function openServer(): Promise<{ url: string; label: string; stop: () => Promise<void> }> {
  const fromEnv = getProcessEnv().DATABASE_URL;
  if (fromEnv) {
    const host = new URL(fromEnv).hostname;
    if (!LOCAL_HOSTS.has(host)) throw new Error(`Refusing to benchmark against DATABASE_URL on "${host}": only a server on this machine is used (unset it for an embedded PostgreSQL).`);
    return { url: fromEnv, label: "DATABASE_URL", stop: async () => {} };
  }
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-bench-pg-"));
  process.stderr.write(`starting an embedded PostgreSQL in ${dir}…\n`);
  const pg = await startEmbeddedPostgres(dir);
  return {
    url: pg.url,
    label: "embedded",
    stop: async () => {
      await pg.stop();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

async function onServer<T>(url: string, fn: (s: postgres.Sql) => Promise<T>): Promise<T> {
  const s = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return await fn(s);
  } finally {
    await s.end({ timeout: 5 });
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * (sorted.length - 1)))]!;
}

/** Runs `clients` loops at once; each calls `grant` until it reports the pool exhausted. */
async function race(name: string, clients: number, grant: (client: number) => Promise<boolean>): Promise<Phase> {
  const latenciesMs: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      for (;;) {
        const t0 = performance.now();
        const granted = await grant(client);
        if (!granted) return;
        latenciesMs.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { name, grants: latenciesMs.length, seconds, latenciesMs: latenciesMs.sort((a, b) => a - b) };
}

async function warm(db: Db, connections: number): Promise<void> {
  // Open every connection of the pool before the clock starts.
  await Promise.all(Array.from({ length: connections }, () => holdConnection(db)));
}

async function main(): Promise<void> {
  const o = options();
  setEnvForProcess({ LOG_LEVEL: getProcessEnv().LOG_LEVEL ?? "silent" });
  const server = await openServer();
  const name = `kiln_bench_${randomBytes(4).toString("hex")}`;
  await onServer(server.url, (s) => s.unsafe(`create database ${name}`));
  const url = new URL(server.url);
  url.pathname = `/${name}`;
  try {
    await runMigrations(url.toString());
    const maxConnections = await onServer(url.toString(), async (s) => Number((await s`show max_connections`)[0]!.max_connections));
    const connections = Math.min(o.connections, maxConnections - 10);
    const handle = createDb(url.toString(), { max: connections });
    const db = handle.db;
    try {
      const version = await getServerVersion(db);

      // Seed: one pool of N hosts, one project everyone shares and P projects to spread over.
      const pool = await createPool(db, SYSTEM, { name: "bench", maxLeaseHours: 168 });
      await insertBenchHosts(db, { poolId: pool.id, count: o.hosts });
      const users = await insertBenchUsers(db, { count: o.clients });
      const shared = await createProject(db, SYSTEM, { name: "bench-shared" });
      const spread: ProjectRow[] = [];
      for (let p = 0; p < o.projects; p++) spread.push(await createProject(db, SYSTEM, { name: `bench-${p}` }));
      const holders = await Promise.all(
        users.map(async (u, i) => {
          const spreadProject = spread[i % spread.length]!;
          await insertBenchMemberships(db, { userId: u.id, projectIds: [shared.id, spreadProject.id] });
          return { user: (await getUserById(db, u.id))!, shared: shared.id, spread: spreadProject.id };
        }),
      );

      const kiln = (projectOf: (h: (typeof holders)[number]) => string) => async (client: number) => {
        const h = holders[client]!;
        try {
          await createLease(db, { user: h.user, ip: "127.0.0.1" }, { poolId: pool.id, projectId: projectOf(h), count: 1, durationHours: 1 });
          return true;
        } catch (e) {
          if (isAppError(e) && e.code === "insufficient_capacity") return false;
          throw e;
        }
      };
      const raw = () => grantHostRaw(db, { poolId: pool.id });

      const phases: Phase[] = [];
      const scenarios: [string, (client: number) => Promise<boolean>][] = [
        ["raw UPDATE … SKIP LOCKED", raw],
        [`Kiln createLease, ${o.projects} projects`, kiln((h) => h.spread)],
        ["Kiln createLease, 1 project", kiln((h) => h.shared)],
      ];
      for (const [label, grant] of scenarios) {
        await resetLeaseBench(db);
        await warm(db, connections);
        process.stderr.write(`running: ${label}…\n`);
        const phase = await race(label, o.clients, grant);
        const leased = await countLeasedHosts(db);
        if (phase.grants !== o.hosts || leased !== o.hosts) throw new Error(`${label}: ${phase.grants} grants and ${leased} leased hosts, expected ${o.hosts} of each.`);
        phases.push(phase);
      }

      const base = phases[0]!;
      const rate = (p: Phase) => p.grants / p.seconds;
      const cols = ["", "grants", "seconds", "grants/s", "p50 ms", "p99 ms", "grants/s vs raw", "p50 vs raw"];
      const rows = phases.map((p) => [
        p.name,
        String(p.grants),
        p.seconds.toFixed(2),
        rate(p).toFixed(0),
        percentile(p.latenciesMs, 0.5).toFixed(1),
        percentile(p.latenciesMs, 0.99).toFixed(1),
        p === base ? "—" : `${(rate(p) / rate(base)).toFixed(3)}×`,
        p === base ? "—" : `${(percentile(p.latenciesMs, 0.5) / percentile(base.latenciesMs, 0.5)).toFixed(1)}×`,
      ]);
      const widths = cols.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i]!.length)));
      const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
      console.log(
        `\nLease grants: ${o.hosts} hosts in one pool, ${o.clients} concurrent clients on ${connections} connections, ` +
          `PostgreSQL ${version} (${server.label}), ${os.cpus().length} CPUs, Node ${process.versions.node}\n`,
      );
      console.log(line(cols));
      for (const r of rows) console.log(line(r));
      console.log(`\nKiln / raw, grants per second: ${phases.slice(1).map((p) => `${p.name.replace("Kiln createLease, ", "")} ${(rate(p) / rate(base)).toFixed(3)}`).join("; ")}`);
    } finally {
      await handle.close();
    }
  } finally {
    await onServer(server.url, (s) => s.unsafe(`drop database if exists ${name} with (force)`)).catch(() => {});
    await server.stop();
  }
}

main().catch((e) => {
  const cause = (e as { cause?: Error }).cause;
  console.error(`error: ${(e as Error).message}${cause ? `\n${cause.message}` : ""}`);
  process.exit(1);
});
