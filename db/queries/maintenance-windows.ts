// Maintenance windows (lib/reservations/maintenance.ts): their rows, and the leases and
// scheduled reservations a new window would fall on. Whether a window stands in an admission's
// way is asked in db/queries/reservations.ts (isFreeDuring, listMaintenanceConflicts).
import { and, asc, count, eq, gt, lt, or, sql, type SQL } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { hostBookings, hosts, leases, maintenanceWindows, pools, projects, reservations } from "../schema";
import { timeRange } from "./reservations";

export async function insertMaintenanceWindow(db: DbOrTx, values: typeof maintenanceWindows.$inferInsert) {
  const [row] = await db.insert(maintenanceWindows).values(values).returning();
  return row!;
}

export async function deleteMaintenanceWindowRow(db: DbOrTx, id: string) {
  const [row] = await db.delete(maintenanceWindows).where(eq(maintenanceWindows.id, id)).returning();
  return row;
}

export async function listMaintenanceWindowRows(db: DbOrTx, p: { id?: string; poolId?: string; hostId?: string; from?: Date; to?: Date; limit: number; offset: number }) {
  const where = and(
    p.id ? eq(maintenanceWindows.id, p.id) : undefined,
    p.poolId ? or(eq(maintenanceWindows.poolId, p.poolId), sql`${maintenanceWindows.hostId} in (select id from ${hosts} where pool_id = ${p.poolId})`) : undefined,
    p.hostId ? or(eq(maintenanceWindows.hostId, p.hostId), sql`${maintenanceWindows.poolId} = (select pool_id from ${hosts} where id = ${p.hostId})`) : undefined,
    p.from ? gt(maintenanceWindows.endsAt, p.from) : undefined,
    p.to ? lt(maintenanceWindows.startsAt, p.to) : undefined,
  );
  const rows = await db
    .select({ window: maintenanceWindows, hostName: hosts.name, poolName: pools.name })
    .from(maintenanceWindows)
    .leftJoin(hosts, eq(hosts.id, maintenanceWindows.hostId))
    .leftJoin(pools, eq(pools.id, maintenanceWindows.poolId))
    .where(where)
    .orderBy(asc(maintenanceWindows.startsAt))
    .limit(p.limit)
    .offset(p.offset);
  const [t] = await db.select({ n: count() }).from(maintenanceWindows).where(where);
  return { rows, total: t?.n ?? 0 };
}

function windowHosts(p: { poolId?: string | null; hostId?: string | null }): SQL {
  return p.hostId ? sql`hb.host_id = ${p.hostId}` : sql`hb.host_id in (select id from ${hosts} where pool_id = ${p.poolId!})`;
}

/** Active leases holding hosts of a pool (or one host) during [from, to). */
export async function listLeasesUnderWindow(db: DbOrTx, p: { poolId?: string | null; hostId?: string | null; from: Date; to: Date }) {
  const rows = await db.execute<{ leaseId: string; projectName: string; hosts: string[]; endsAt: string }>(sql`
    select l.id as "leaseId", pr.name as "projectName", array_agg(h.name order by h.name) as hosts, l.ends_at as "endsAt"
    from ${hostBookings} hb join ${leases} l on l.id = hb.lease_id join ${projects} pr on pr.id = l.project_id join ${hosts} h on h.id = hb.host_id
    where ${windowHosts(p)} and hb.during && ${timeRange(p.from, p.to)}
    group by l.id, pr.name, l.ends_at order by l.ends_at`);
  return rows.map((r) => ({ ...r, endsAt: new Date(r.endsAt) }));
}

/** Scheduled reservations with a booking on a pool's hosts (or one host) during [from, to). */
export async function listReservationsUnderWindow(db: DbOrTx, p: { poolId?: string | null; hostId?: string | null; from: Date; to: Date }): Promise<string[]> {
  const rows = await db.execute<{ id: string }>(sql`
    select distinct r.id, r.prepare_from from ${hostBookings} hb join ${reservations} r on r.id = hb.reservation_id
    where r.state = 'scheduled' and ${windowHosts(p)} and hb.during && ${timeRange(p.from, p.to)}
    order by r.prepare_from`);
  return rows.map((r) => r.id);
}
