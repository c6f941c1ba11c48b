// What the benchmarks share around their load tools: quoting for wrk's Lua scripts, one pgbench
// run read back into a rate and latency percentiles, and the result table they print.
import { execFile } from "node:child_process";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A Lua string literal of `s`, for the scripts handed to wrk. */
export function luaString(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

export type PgbenchRun = { tps: number; done: number; failed: number; p50: number; p99: number; wallSeconds: number };

/**
 * pgbench with one script on `connections` clients (2 threads, prepared statements), for
 * `length` (["-t", n] or ["-T", seconds]) and any `extra` arguments (e.g. -D variables). Its
 * rate is pgbench's own, without connecting; p50/p99 (ms) come from its per-transaction log.
 */
export async function runPgbench(url: string, o: { script: string; connections: number; length: string[]; extra?: string[] }): Promise<PgbenchRun> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), "kiln-bench-pgbench-"));
  try {
    await fsp.writeFile(path.join(dir, "script.sql"), o.script + "\n");
    const args = ["-n", "-M", "prepared", "-f", path.join(dir, "script.sql"), "-c", String(o.connections), "-j", "2", ...o.length, ...(o.extra ?? []), "-l", `--log-prefix=${path.join(dir, "tx")}`, url];
    const started = performance.now();
    const { stdout } = await run("pgbench", args, { maxBuffer: 1 << 20 }).catch((e: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(`pgbench failed: ${e.message}\n${e.stdout ?? ""}\n${e.stderr ?? ""}`);
    });
    const wallSeconds = (performance.now() - started) / 1000;
    const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(stdout)?.[1];
    const done = Number(/number of transactions actually processed: (\d+)/.exec(stdout)?.[1]);
    const failed = Number(/number of failed transactions: (\d+)/.exec(stdout)?.[1] ?? 0);
    if (!tps) throw new Error(`pgbench printed no rate:\n${stdout}`);
    // Per-transaction log: client, transaction number, latency in µs, script, epoch, µs.
    const latencies: number[] = [];
    for (const f of await fsp.readdir(dir)) {
      if (!f.startsWith("tx")) continue;
      for (const line of (await fsp.readFile(path.join(dir, f), "utf8")).split("\n")) {
        const us = Number(line.split(" ")[2]);
        if (line && Number.isFinite(us)) latencies.push(us / 1000);
      }
    }
    latencies.sort((a, b) => a - b);
    const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * (latencies.length - 1)))]!;
    return { tps: Number(tps), done, failed, p50: at(0.5), p99: at(0.99), wallSeconds };
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

/** Columns padded to their widest cell: the first left-aligned, the numbers right-aligned. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ")).join("\n");
}
