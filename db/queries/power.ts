import { asc, inArray, sql } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { hostPower, hosts, leaseHosts, leases, type HostPowerRow, type HostRow } from "../schema";

export type PowerStateValue = HostPowerRow["state"];
export type HostPowerWrite = { hostId: string; state: PowerStateValue; message: string; checkedAt: Date };

/** Hosts whose driver is one of `drivers` (the ones that can report a state), oldest check first. */
export async function listHostsWithDrivers(db: DbOrTx, drivers: string[]): Promise<HostRow[]> {
  if (drivers.length === 0) return [];
  return db
    .select({ host: hosts })
    .from(hosts)
    .leftJoin(hostPower, sql`${hostPower.hostId} = ${hosts.id}`)
    .where(inArray(hosts.powerDriver, drivers))
    .orderBy(sql`${hostPower.checkedAt} asc nulls first`, asc(hosts.id))
    .then((rows) => rows.map((r) => r.host));
}

/**
 * Hosts whose driver cannot report a state (`reasons`: driver → why) and whose host_power row
 * does not yet say so: the poll writes each once, not every minute.
 */
export async function listHostsToMarkUnknown(db: DbOrTx, reasons: Record<string, string>): Promise<{ id: string; powerDriver: string }[]> {
  const drivers = Object.keys(reasons);
  if (drivers.length === 0) return [];
  return db
    .select({ id: hosts.id, powerDriver: hosts.powerDriver })
    .from(hosts)
    .leftJoin(hostPower, sql`${hostPower.hostId} = ${hosts.id}`)
    .where(
      sql`${inArray(hosts.powerDriver, drivers)} and (${hostPower.hostId} is null or ${hostPower.state} <> 'unknown'
        or ${hostPower.message} is distinct from (${JSON.stringify(reasons)}::jsonb ->> ${hosts.powerDriver}))`,
    );
}

/**
 * Records what a driver said. changed_at moves only when the state differs from the one
 * recorded before, so the badge can say "off since …".
 */
export async function upsertHostPower(db: DbOrTx, rows: HostPowerWrite[]): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insert(hostPower)
    .values(rows.map((r) => ({ ...r, changedAt: r.checkedAt })))
    .onConflictDoUpdate({
      target: hostPower.hostId,
      set: {
        state: sql`excluded.state`,
        message: sql`excluded.message`,
        checkedAt: sql`excluded.checked_at`,
        changedAt: sql`case when ${hostPower.state} = excluded.state then ${hostPower.changedAt} else excluded.checked_at end`,
      },
    });
}

export async function listHostPower(db: DbOrTx, hostIds: string[]): Promise<HostPowerRow[]> {
  if (hostIds.length === 0) return [];
  return db.select().from(hostPower).where(inArray(hostPower.hostId, hostIds));
}

/**
 * The recorded state of each host in `hostIds` with its driver; `heldBy` limits the answer to
 * hosts that user holds in an active lease (a researcher's list).
 */
export async function listPowerOfHosts(db: DbOrTx, params: { hostIds: string[]; heldBy?: string }) {
  if (params.hostIds.length === 0) return [];
  const held = params.heldBy
    ? sql`and exists (select 1 from ${leaseHosts} join ${leases} on ${leases.id} = ${leaseHosts.leaseId}
        where ${leaseHosts.hostId} = ${hosts.id} and ${leaseHosts.releasedAt} is null and ${leases.userId} = ${params.heldBy})`
    : sql``;
  return db
    .select({ hostId: hosts.id, driver: hosts.powerDriver, state: hostPower.state, message: hostPower.message, checkedAt: hostPower.checkedAt, changedAt: hostPower.changedAt })
    .from(hosts)
    .leftJoin(hostPower, sql`${hostPower.hostId} = ${hosts.id}`)
    .where(sql`${inArray(hosts.id, params.hostIds)} ${held}`);
}

/** Forgets a host's recorded state (its power settings changed: the old reading no longer applies). */
export async function deleteHostPower(db: DbOrTx, hostId: string): Promise<void> {
  await db.delete(hostPower).where(sql`${hostPower.hostId} = ${hostId}`);
}
