// The worker's power poll: read each host's state through its driver and record it in
// host_power, for the badge on host pages and lists. Drivers that cannot read a state
// (manual, Wake-on-LAN) are not asked; their hosts are recorded once as unknown, with why.
// Bounded concurrency and a per-host deadline: one dead BMC costs its own slot for at most
// the deadline and never holds up the rest.
import { listHostsToMarkUnknown, listHostsWithDrivers, upsertHostPower, type HostPowerWrite } from "@/db/queries/power";
import { isForeignKeyViolation } from "@/db/errors";
import type { HostRow } from "@/db/schema";
import type { DbOrTx } from "../db";
import { getEnv } from "../env";
import { POWER_DRIVERS } from "./drivers";
import { runPower } from "./power";
import { PowerError } from "./types";

export type PollOptions = { concurrency?: number; timeoutMs?: number };
export type PollSummary = { polled: number; on: number; off: number; unknown: number; failed: number; markedUnknown: number; ms: number };

/** Driver name → why it shows no state, for the drivers that cannot report one. */
export function noStateReasons(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, d] of Object.entries(POWER_DRIVERS)) if (!d.reportsState) out[name] = d.noStateReason ?? "This power driver cannot tell whether the machine is on.";
  return out;
}

function withDeadline<T>(p: Promise<T>, ms: number, host: HostRow): Promise<T> {
  let timer: NodeJS.Timeout;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PowerError(`No answer from ${host.name}'s power control (${host.powerDriver}) within ${ms / 1000} s.`)), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

async function readOne(db: DbOrTx, host: HostRow, timeoutMs: number): Promise<{ write: HostPowerWrite; failed: boolean }> {
  try {
    const r = await withDeadline(runPower(db, host, "status", { record: false }), timeoutMs, host);
    return { write: { hostId: host.id, state: r.state, message: r.message, checkedAt: new Date() }, failed: false };
  } catch (e) {
    // The failure is the state's explanation ("refused the login"), shown with the unknown badge.
    const message = e instanceof PowerError ? e.message : `Reading the power state failed: ${(e as Error).message}`;
    return { write: { hostId: host.id, state: "unknown", message, checkedAt: new Date() }, failed: true };
  }
}

export async function pollPowerStates(db: DbOrTx, options: PollOptions = {}): Promise<PollSummary> {
  const started = Date.now();
  const env = getEnv();
  const concurrency = options.concurrency ?? env.KILN_POWER_POLL_CONCURRENCY;
  const timeoutMs = options.timeoutMs ?? env.KILN_POWER_POLL_TIMEOUT_SECONDS * 1000;

  const reasons = noStateReasons();
  const unknown = await listHostsToMarkUnknown(db, reasons);
  const now = new Date();
  await upsertHostPower(db, unknown.map((h) => ({ hostId: h.id, state: "unknown" as const, message: reasons[h.powerDriver]!, checkedAt: now })));

  const pollable = Object.entries(POWER_DRIVERS).filter(([, d]) => d.reportsState).map(([n]) => n);
  const hosts = await listHostsWithDrivers(db, pollable);
  const summary: PollSummary = { polled: hosts.length, on: 0, off: 0, unknown: 0, failed: 0, markedUnknown: unknown.length, ms: 0 };
  let next = 0;
  // A few workers share one queue of hosts; each result is written as it comes, so a slow
  // host delays nobody's badge.
  const lane = async () => {
    while (next < hosts.length) {
      const host = hosts[next++]!;
      const { write, failed } = await readOne(db, host, timeoutMs);
      if (failed) summary.failed++;
      summary[write.state]++;
      try {
        await upsertHostPower(db, [write]);
      } catch (e) {
        // Deleted while it was being asked: nothing to record.
        if (!isForeignKeyViolation(e)) throw e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, hosts.length) }, lane));
  summary.ms = Date.now() - started;
  return summary;
}
