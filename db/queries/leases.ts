import { and, asc, count, desc, eq, gt, inArray, isNull, lte, sql, type SQL } from "drizzle-orm";
import { historyEmailOf } from "./users";
import type { DbOrTx } from "../client";
import { hosts, leaseEvents, leaseHosts, leases, pools, projects, users, type LeaseRow } from "../schema";
import { hostCriteria, type HostCriteriaInput } from "./host-criteria";
import { isFreeDuring } from "./reservations";

/**
 * Picks and locks up to `count` available hosts of a pool matching the filters.
 * SKIP LOCKED: concurrent requests each take different hosts instead of queueing
 * behind one another, and never the same host.
 */
export async function pickAvailableHosts(db: DbOrTx, p: { poolId: string; count: number; during?: { from: Date; to: Date } } & HostCriteriaInput): Promise<{ id: string; name: string }[]> {
  return db
    .select({ id: hosts.id, name: hosts.name })
    .from(hosts)
    .where(matchAvailable(p))
    .orderBy(asc(hosts.name))
    .limit(p.count)
    .for("update", { skipLocked: true });
}

// With `during`: not a host booked by a reservation (or anything else) or under a maintenance
// window in that time, so a lease never takes time promised to someone else.
function matchAvailable(p: { poolId: string; during?: { from: Date; to: Date } } & HostCriteriaInput): SQL {
  return and(eq(hosts.poolId, p.poolId), eq(hosts.state, "available"), ...hostCriteria(p).map((c) => c.where), p.during ? isFreeDuring(p.during.from, p.during.to) : undefined)!;
}

export async function lockHosts(db: DbOrTx, ids: string[]) {
  return db.select({ id: hosts.id, name: hosts.name, state: hosts.state }).from(hosts).where(inArray(hosts.id, ids)).for("update");
}

export async function insertLease(db: DbOrTx, values: typeof leases.$inferInsert): Promise<LeaseRow> {
  const [row] = await db.insert(leases).values(values).returning();
  return row!;
}

export async function updateLeaseRow(db: DbOrTx, id: string, values: Partial<typeof leases.$inferInsert>) {
  const [row] = await db.update(leases).set(values).where(eq(leases.id, id)).returning();
  return row;
}

export async function insertLeaseHosts(db: DbOrTx, leaseId: string, hostIds: string[], at: Date): Promise<void> {
  if (hostIds.length) await db.insert(leaseHosts).values(hostIds.map((hostId) => ({ leaseId, hostId, addedAt: at })));
}

/** Takes hosts out of a lease; returns the ids that were still in it. */
export async function releaseLeaseHosts(db: DbOrTx, params: { leaseId: string; hostIds?: string[]; at: Date }): Promise<string[]> {
  const rows = await db
    .update(leaseHosts)
    .set({ releasedAt: params.at })
    .where(and(eq(leaseHosts.leaseId, params.leaseId), isNull(leaseHosts.releasedAt), params.hostIds ? inArray(leaseHosts.hostId, params.hostIds) : undefined))
    .returning({ hostId: leaseHosts.hostId });
  return rows.map((r) => r.hostId);
}

export async function insertLeaseEvent(db: DbOrTx, values: typeof leaseEvents.$inferInsert): Promise<void> {
  await db.insert(leaseEvents).values(values);
}

export async function getLeaseRow(db: DbOrTx, id: string, options: { lock?: boolean } = {}): Promise<LeaseRow | undefined> {
  const q = db.select().from(leases).where(eq(leases.id, id)).limit(1);
  const [row] = options.lock ? await q.for("update") : await q;
  return row;
}

export async function listLeaseHostRows(db: DbOrTx, leaseIds: string[]) {
  if (leaseIds.length === 0) return [];
  return db
    .select({ leaseId: leaseHosts.leaseId, hostId: hosts.id, name: hosts.name, state: hosts.state, addedAt: leaseHosts.addedAt, releasedAt: leaseHosts.releasedAt })
    .from(leaseHosts)
    .innerJoin(hosts, eq(hosts.id, leaseHosts.hostId))
    .where(inArray(leaseHosts.leaseId, leaseIds))
    .orderBy(asc(hosts.name));
}

export async function listLeaseEventRows(db: DbOrTx, leaseId: string) {
  return db
    .select({ event: leaseEvents, actorEmail: historyEmailOf<string | null>() })
    .from(leaseEvents)
    .leftJoin(users, eq(users.id, leaseEvents.actorUserId))
    .where(eq(leaseEvents.leaseId, leaseId))
    .orderBy(asc(leaseEvents.at), asc(leaseEvents.id));
}

export type LeaseListParams = {
  leaseId?: string;
  userId?: string;
  projectId?: string;
  hostId?: string;
  state?: "active" | "released" | "expired";
  limit: number;
  offset: number;
};

export async function listLeaseRows(db: DbOrTx, p: LeaseListParams) {
  const where = and(
    p.leaseId ? eq(leases.id, p.leaseId) : undefined,
    p.userId ? eq(leases.userId, p.userId) : undefined,
    p.projectId ? eq(leases.projectId, p.projectId) : undefined,
    p.state ? eq(leases.state, p.state) : undefined,
    p.hostId ? sql`exists (select 1 from ${leaseHosts} where ${leaseHosts.leaseId} = ${leases.id} and ${leaseHosts.hostId} = ${p.hostId})` : undefined,
  );
  const rows = await db
    .select({ lease: leases, userEmail: historyEmailOf<string>(), userName: users.name, projectName: projects.name, poolName: pools.name })
    .from(leases)
    .innerJoin(users, eq(users.id, leases.userId))
    .innerJoin(projects, eq(projects.id, leases.projectId))
    .leftJoin(pools, eq(pools.id, leases.poolId))
    .where(where)
    .orderBy(sql`${leases.state} = 'active' desc`, desc(leases.createdAt))
    .limit(p.limit)
    .offset(p.offset);
  const [t] = await db.select({ n: count() }).from(leases).where(where);
  return { rows, total: t?.n ?? 0 };
}

/** Active leases within `hours` of their end that were not yet reminded at that offset, and that are longer than it. */
export async function listLeasesToRemind(db: DbOrTx, params: { now: Date; hours: number }) {
  const horizon = new Date(params.now.getTime() + params.hours * 3600_000);
  return db
    .select({ lease: leases, email: users.email, name: users.name })
    .from(leases)
    .innerJoin(users, eq(users.id, leases.userId))
    .where(
      and(
        eq(leases.state, "active"),
        gt(leases.endsAt, params.now),
        lte(leases.endsAt, horizon),
        sql`not (${params.hours}::int = any(${leases.remindersSent}))`,
        sql`${leases.endsAt} - ${leases.startsAt} > make_interval(hours => ${params.hours})`,
      ),
    );
}

export async function addReminderSent(db: DbOrTx, params: { leaseId: string; hours: number }): Promise<boolean> {
  const rows = await db
    .update(leases)
    .set({ remindersSent: sql`array_append(${leases.remindersSent}, ${params.hours}::int)` })
    .where(and(eq(leases.id, params.leaseId), sql`not (${params.hours}::int = any(${leases.remindersSent}))`))
    .returning({ id: leases.id });
  return rows.length > 0;
}

export async function listActiveLeaseIdsOfUser(db: DbOrTx, userId: string): Promise<string[]> {
  const rows = await db.select({ id: leases.id }).from(leases).where(and(eq(leases.userId, userId), eq(leases.state, "active")));
  return rows.map((r) => r.id);
}

export async function listLeaseIdsOfUser(db: DbOrTx, userId: string): Promise<string[]> {
  const rows = await db.select({ id: leases.id }).from(leases).where(eq(leases.userId, userId));
  return rows.map((r) => r.id);
}

/** Many leases in one statement (imports of history, seeding). */
export async function insertLeases(db: DbOrTx, values: (typeof leases.$inferInsert)[]): Promise<LeaseRow[]> {
  if (values.length === 0) return [];
  return db.insert(leases).values(values).returning();
}

/**
 * The lease bookkeeping of one pool as the database holds it, counted in one statement (what
 * the concurrency tests check after a race). In a consistent pool the last four are 0, and
 * activeLinks = leasedHosts.
 */
export async function getPoolLeaseFacts(db: DbOrTx, poolId: string) {
  const [row] = await db.execute<{
    activeLinks: number;
    leasedHosts: number;
    availableHosts: number;
    activeLeases: number;
    doubleLeased: number;
    leasedWithoutLease: number;
    linkedNotLeased: number;
    emptyLeases: number;
  }>(sql`
    with pool_hosts as (select id, state from ${hosts} where pool_id = ${poolId}),
         active as (select lh.host_id, lh.lease_id from ${leaseHosts} lh join pool_hosts h on h.id = lh.host_id where lh.released_at is null)
    select
      (select count(*)::int from active) as "activeLinks",
      (select count(*)::int from pool_hosts where state = 'leased') as "leasedHosts",
      (select count(*)::int from pool_hosts where state = 'available') as "availableHosts",
      (select count(*)::int from ${leases} where pool_id = ${poolId} and state = 'active') as "activeLeases",
      (select count(*)::int from (select host_id from active group by host_id having count(*) > 1) d) as "doubleLeased",
      (select count(*)::int from pool_hosts h where h.state = 'leased' and not exists (select 1 from active a where a.host_id = h.id)) as "leasedWithoutLease",
      (select count(*)::int from active a join pool_hosts h on h.id = a.host_id where h.state <> 'leased') as "linkedNotLeased",
      (select count(*)::int from ${leases} l where l.pool_id = ${poolId} and not exists (select 1 from ${leaseHosts} lh where lh.lease_id = l.id)) as "emptyLeases"`);
  return row!;
}

/** How many hosts each active lease of a pool holds now (one number per lease). */
export async function listActiveLeaseHostCounts(db: DbOrTx, poolId: string): Promise<number[]> {
  const rows = await db
    .select({ n: count(leaseHosts.hostId) })
    .from(leases)
    .leftJoin(leaseHosts, and(eq(leaseHosts.leaseId, leases.id), isNull(leaseHosts.releasedAt)))
    .where(and(eq(leases.poolId, poolId), eq(leases.state, "active")))
    .groupBy(leases.id);
  return rows.map((r) => r.n);
}
