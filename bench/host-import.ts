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
//                  import existed), 8 requests in flight; measured on a sample and extrapolated.
//
// Options: --hosts 10000 --sample 500 --concurrency 8. Prints a table with ratios against raw SQL.
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { promisify } from "node:util";
import postgres from "postgres";
import { startEmbeddedPostgres } from "@/lib/runtime/embedded-postgres";
import { benchApi, startBenchKiln } from "./kiln";

const run = promisify(execFile);

function options() {
  const { values } = parseArgs({ options: { hosts: { type: "string", default: "10000" }, sample: { type: "string", default: "500" }, concurrency: { type: "string", default: "8" } } });
  const num = (k: keyof typeof values) => {
    const n = Number(values[k]);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${k} must be a positive integer (got ${values[k]}).`);
    return n;
  };
  return { hosts: num("hosts"), sample: num("sample"), concurrency: num("concurrency") };
}

/** A locally administered MAC: prefix byte, then the number (two per host, so 2n and 2n+1). */
function macOf(prefix: number, n: number): string {
  const b = [2, prefix, (n >> 24) & 255, (n >> 16) & 255, (n >> 8) & 255, n & 255];
  return b.map((x) => x.toString(16).padStart(2, "0")).join(":");
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ")).join("\n");
}

async function main(): Promise<void> {
  const o = options();
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

      // One host per request, as before the import existed: a sample, extrapolated.
      let next = 0;
      t0 = performance.now();
      await Promise.all(
        Array.from({ length: o.concurrency }, async () => {
          for (let n = next++; n < o.sample; n = next++) {
            await benchApi(k, "POST", "/api/v1/hosts", { name: `one-${n}`, interfaces: [{ mac: macOf(0xc0, 2 * n) }, { mac: macOf(0xc0, 2 * n + 1) }], tags: ["bulk"] }, 201);
          }
        }),
      );
      const sampleSeconds = (performance.now() - t0) / 1000;
      results.push({ name: `Kiln: POST /api/v1/hosts per host, ${o.concurrency} in flight (${o.sample} measured)`, hosts: o.hosts, seconds: (sampleSeconds * o.hosts) / o.sample, extrapolated: true });

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
