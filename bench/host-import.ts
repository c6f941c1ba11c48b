// `npm run bench:host-import`: registering a lab's worth of hosts, three ways, in one run on one
// Kiln (npm start's launcher, embedded PostgreSQL):
//
//   raw SQL      — the baseline: the same hosts and interfaces inserted by two INSERT … SELECT
//                  unnest(…) statements in one transaction, straight into Kiln's database. No
//                  checks, no events, no audit: the least any import can cost.
//   import       — one POST /api/v1/hosts/import with the CSV (what the admin's import page
//                  sends), sent by curl: validation of every row, the name/MAC/pool checks,
//                  batched inserts, host events and one audit entry, in one transaction.
//   one by one   — POST /api/v1/hosts per host (how 10,000 hosts were registered before the
//                  import existed), driven by Debian's wrk (a Lua script gives every request
//                  its own name and MACs) with 8 connections for --seconds, extrapolated.
//
// Options: --hosts 10000 --seconds 15 --connections 8. Needs curl and wrk (apt-get install wrk).
// Prints a table with ratios against raw SQL.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { promisify } from "node:util";
import postgres from "postgres";
import { startEmbeddedPostgres } from "@/lib/runtime/embedded-postgres";
import { startBenchKiln } from "./kiln";
import { table } from "./load-tools";

const run = promisify(execFile);

function options() {
  const { values } = parseArgs({ options: { hosts: { type: "string", default: "10000" }, seconds: { type: "string", default: "15" }, connections: { type: "string", default: "8" } } });
  const num = (k: keyof typeof values) => {
    const n = Number(values[k]);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${k} must be a positive integer (got ${values[k]}).`);
    return n;
  };
  return { hosts: num("hosts"), seconds: num("seconds"), connections: num("connections") };
}

/** A locally administered MAC: prefix byte, then the number (two per host, so 2n and 2n+1). */
function macOf(prefix: number, n: number): string {
  const b = [2, prefix, (n >> 24) & 255, (n >> 16) & 255, (n >> 8) & 255, n & 255];
  return b.map((x) => x.toString(16).padStart(2, "0")).join(":");
}

// Every request registers a new host: thread t's n-th is wrk-t-n with MACs 02:c0:t:n (two each).
const WRK_SCRIPT = `
local counter = 0
local threads = {}
function setup(thread) thread:set("tid", #threads + 1); table.insert(threads, thread) end
function init(args) token = args[1] end
local function mac(n) return string.format("02:c0:%02x:%02x:%02x:%02x", tid, math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256) end
request = function()
  counter = counter + 1
  local body = string.format('{"name":"wrk-%d-%d","interfaces":[{"mac":"%s"},{"mac":"%s"}],"tags":["bulk"]}', tid, counter, mac(2 * counter), mac(2 * counter + 1))
  return wrk.format("POST", "/api/v1/hosts", { ["content-type"] = "application/json", ["authorization"] = "Bearer " .. token }, body)
end
function done(summary, latency, requests)
  io.write(string.format('{"requests":%d,"duration_us":%d,"non2xx":%d,"errors":%d,"p50_us":%d,"p99_us":%d}\\n', summary.requests, summary.duration,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, latency:percentile(50), latency:percentile(99)))
end
`;

async function main(): Promise<void> {
  const o = options();
  for (const bin of ["/usr/bin/wrk", "/usr/bin/curl"]) if (!existsSync(bin)) throw new Error(`${bin} is missing: apt-get install ${path.basename(bin)}.`);
  process.stderr.write("starting Kiln (npm start's launcher, embedded PostgreSQL)…\n");
  const k = await startBenchKiln("import", { KILN_POWER_POLL_SECONDS: "0" });
  try {
    const pg = await startEmbeddedPostgres(path.join(k.dataDir, "postgres"), { attachIfRunning: true });
    const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
    try {
      const results: { name: string; hosts: number; seconds: number; extrapolated?: boolean }[] = [];

      // Baseline: the same shape of rows (10,000 hosts, 2 MACs each) straight into the tables.
      const names = Array.from({ length: o.hosts }, (_, n) => `raw-${n}`);
      const macsA = names.map((_, n) => macOf(0xa0, 2 * n));
      const macsB = names.map((_, n) => macOf(0xa0, 2 * n + 1));
      let t0 = performance.now();
      await sql.begin(async (tx) => {
        const ids = await tx`insert into hosts (name, state, tags, power_driver, power_params)
          select n, 'available', '{bulk}', 'ipmi', jsonb_build_object('address', '10.1.0.1') from unnest(${names}::text[]) n returning id, name`;
        const byName = new Map(ids.map((r) => [r.name as string, r.id as string]));
        const hostIds = names.map((n) => byName.get(n)!);
        await tx`insert into host_interfaces (host_id, mac, is_pxe)
          select h, m, i <= ${o.hosts} from unnest(${[...hostIds, ...hostIds]}::uuid[], ${[...macsA, ...macsB]}::text[]) with ordinality as t(h, m, i)`;
      });
      results.push({ name: "raw SQL (2 INSERT … unnest, 1 transaction)", hosts: o.hosts, seconds: (performance.now() - t0) / 1000 });

      // Kiln's import: one request with the CSV, sent by curl.
      const lines = ["name,macs,tags,power_driver,power_address"];
      for (let n = 0; n < o.hosts; n++) lines.push(`imp-${n},${macOf(0xb0, 2 * n)};${macOf(0xb0, 2 * n + 1)},bulk,ipmi,10.1.${(n >> 8) & 255}.${n & 255}`);
      const bodyFile = path.join(os.tmpdir(), `kiln-bench-import-${process.pid}.json`);
      await fs.writeFile(bodyFile, JSON.stringify({ csv: lines.join("\n") }));
      try {
        const { stdout } = await run("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code} %{time_total}", "-X", "POST", "-H", `authorization: Bearer ${k.token}`, "-H", "content-type: application/json", "--data-binary", `@${bodyFile}`, `${k.base}/api/v1/hosts/import`]);
        const [code, secs] = stdout.trim().split(" ");
        if (code !== "200" && code !== "201") throw new Error(`the import answered ${code}`);
        results.push({ name: "Kiln: one POST /api/v1/hosts/import (CSV)", hosts: o.hosts, seconds: Number(secs) });
      } finally {
        await fs.rm(bodyFile, { force: true });
      }
      const [counted] = await sql`select count(*)::int as n from hosts where name like 'imp-%'`;
      if (counted!.n !== o.hosts) throw new Error(`the import left ${counted!.n} hosts, expected ${o.hosts}`);

      // One host per request, as before the import existed: wrk for --seconds, extrapolated.
      const scriptFile = path.join(os.tmpdir(), `kiln-bench-import-${process.pid}.lua`);
      await fs.writeFile(scriptFile, WRK_SCRIPT);
      try {
        const { stdout } = await run("wrk", ["-t2", `-c${o.connections}`, `-d${o.seconds}s`, "--timeout", "10s", "-s", scriptFile, k.base, "--", k.token], { maxBuffer: 1 << 20 });
        const line = stdout.trim().split("\n").findLast((l) => l.startsWith("{"));
        if (!line) throw new Error(`wrk printed no result:\n${stdout}`);
        const w = JSON.parse(line) as { requests: number; duration_us: number; non2xx: number; errors: number; p50_us: number; p99_us: number };
        if (w.non2xx || w.errors) throw new Error(`wrk: ${w.non2xx} answers were not 201 and ${w.errors} failed`);
        const [made] = await sql`select count(*)::int as n from hosts where name like 'wrk-%'`;
        // Requests still in flight when wrk stops are not counted by it but may still be served.
        if (made!.n < w.requests || made!.n > w.requests + o.connections) throw new Error(`wrk counted ${w.requests} answers but ${made!.n} hosts exist`);
        const perHost = w.duration_us / 1e6 / w.requests;
        results.push({ name: `Kiln: POST /api/v1/hosts per host (wrk, ${o.connections} connections, ${w.requests} in ${(w.duration_us / 1e6).toFixed(0)} s; p50 ${(w.p50_us / 1000).toFixed(0)} ms)`, hosts: o.hosts, seconds: perHost * o.hosts, extrapolated: true });
      } finally {
        await fs.rm(scriptFile, { force: true });
      }

      const base = results[0]!;
      const rows = [["", "hosts", "seconds", "hosts/s", "time vs raw SQL"]];
      for (const r of results) rows.push([r.name, String(r.hosts), `${r.extrapolated ? "~" : ""}${r.seconds.toFixed(2)}`, (r.hosts / r.seconds).toFixed(0), `${(r.seconds / base.seconds).toFixed(1)}×`]);
      console.log(`\nhost import — ${new Date().toISOString().slice(0, 16)}Z, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? "?"}), PostgreSQL embedded\n`);
      console.log(table(rows));
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
