import { and, asc, count, desc, eq, ilike, inArray, isNull, or, sql, type SQL } from "drizzle-orm";
import { historyEmailOf } from "./users";
import type { DbOrTx } from "../client";
import { hostCriteria, type HostCriteriaInput } from "./host-criteria";
import { hostEvents, hostInterfaces, hosts, leaseHosts, leases, pools, users, type HostRow, type HostState } from "../schema";

export type HostInsert = typeof hosts.$inferInsert;
export type InterfaceRow = typeof hostInterfaces.$inferSelect;

export async function insertHost(db: DbOrTx, values: HostInsert): Promise<HostRow> {
  const [row] = await db.insert(hosts).values(values).returning();
  return row!;
}

export async function updateHostRow(db: DbOrTx, id: string, values: Partial<HostInsert>): Promise<HostRow | undefined> {
  const [row] = await db.update(hosts).set({ ...values, updatedAt: new Date() }).where(eq(hosts.id, id)).returning();
  return row;
}

export async function deleteHostRow(db: DbOrTx, id: string): Promise<boolean> {
  return (await db.delete(hosts).where(eq(hosts.id, id)).returning({ id: hosts.id })).length > 0;
}

export async function getHostRow(db: DbOrTx, id: string): Promise<HostRow | undefined> {
  const [row] = await db.select().from(hosts).where(eq(hosts.id, id)).limit(1);
  return row;
}

export async function getHostRowsByIds(db: DbOrTx, ids: string[]): Promise<HostRow[]> {
  if (ids.length === 0) return [];
  return db.select().from(hosts).where(inArray(hosts.id, ids));
}

export async function listInterfaces(db: DbOrTx, hostIds: string[]): Promise<InterfaceRow[]> {
  if (hostIds.length === 0) return [];
  return db.select().from(hostInterfaces).where(inArray(hostInterfaces.hostId, hostIds)).orderBy(desc(hostInterfaces.isPxe), asc(hostInterfaces.mac));
}

export async function replaceInterfaces(db: DbOrTx, hostId: string, ifaces: { mac: string; name: string; isPxe: boolean }[]): Promise<void> {
  await db.delete(hostInterfaces).where(eq(hostInterfaces.hostId, hostId));
  if (ifaces.length) await db.insert(hostInterfaces).values(ifaces.map((i) => ({ ...i, hostId })));
}

/** Which of these MACs already belong to a host (other than `exceptHostId`), with that host's name. */
export async function findTakenMacs(db: DbOrTx, macs: string[], exceptHostId?: string) {
  if (macs.length === 0) return [];
  return db
    .select({ mac: hostInterfaces.mac, hostName: hosts.name, hostId: hosts.id })
    .from(hostInterfaces)
    .innerJoin(hosts, eq(hosts.id, hostInterfaces.hostId))
    .where(and(inArray(hostInterfaces.mac, macs), exceptHostId ? sql`${hosts.id} <> ${exceptHostId}` : undefined));
}

export type HostListParams = {
  q?: string;
  state?: HostState;
  poolId?: string | "none";
  siteId?: string;
  tag?: string;
  sort: "name" | "state" | "pool" | "updated";
  order: "asc" | "desc";
  limit: number;
  offset: number;
  /** Restrict to hosts held (in an active lease) by this user. */
  heldBy?: string;
  /** Hardware criteria, the same as a lease's (./host-criteria.ts). */
  hardware?: HostCriteriaInput;
};

/** One page of hosts with pool name and current holder; indexed filters, so it stays fast at 10,000 hosts. */
export async function listHostRows(db: DbOrTx, p: HostListParams) {
  const conds: SQL[] = [];
  if (p.q) {
    const like = `%${p.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    conds.push(
      or(
        ilike(hosts.name, like),
        sql`exists (select 1 from ${hostInterfaces} where ${hostInterfaces.hostId} = ${hosts.id} and ${hostInterfaces.mac} ilike ${like})`,
      )!,
    );
  }
  if (p.state) conds.push(eq(hosts.state, p.state));
  if (p.poolId === "none") conds.push(isNull(hosts.poolId));
  else if (p.poolId) conds.push(eq(hosts.poolId, p.poolId));
  if (p.siteId) conds.push(eq(hosts.siteId, p.siteId));
  if (p.tag) conds.push(sql`${hosts.tags} @> array[${p.tag}]::text[]`);
  if (p.hardware) conds.push(...hostCriteria(p.hardware).map((c) => c.where));
  if (p.heldBy) {
    conds.push(
      sql`exists (select 1 from ${leaseHosts} join ${leases} on ${leases.id} = ${leaseHosts.leaseId}
        where ${leaseHosts.hostId} = ${hosts.id} and ${leaseHosts.releasedAt} is null and ${leases.userId} = ${p.heldBy})`,
    );
  }
  const where = conds.length ? and(...conds) : undefined;
  const dir = p.order === "desc" ? desc : asc;
  const orderBy =
    p.sort === "state" ? [dir(hosts.state), asc(hosts.name)] : p.sort === "pool" ? [dir(pools.name), asc(hosts.name)] : p.sort === "updated" ? [dir(hosts.updatedAt), asc(hosts.name)] : [dir(hosts.name)];
  const rows = await db
    .select({
      host: hosts,
      poolName: pools.name,
      leaseId: leaseHosts.leaseId,
      holderEmail: users.email,
      leaseEndsAt: leases.endsAt,
    })
    .from(hosts)
    .leftJoin(pools, eq(pools.id, hosts.poolId))
    .leftJoin(leaseHosts, and(eq(leaseHosts.hostId, hosts.id), isNull(leaseHosts.releasedAt)))
    .leftJoin(leases, eq(leases.id, leaseHosts.leaseId))
    .leftJoin(users, eq(users.id, leases.userId))
    .where(where)
    .orderBy(...orderBy)
    .limit(p.limit)
    .offset(p.offset);
  const [t] = await db.select({ n: count() }).from(hosts).where(where);
  return { rows, total: t?.n ?? 0 };
}

/**
 * Applies one state transition to many hosts with a guarded UPDATE: a host changes only
 * if its current state is one of `from`. Returns the hosts that changed with their old state.
 */
export async function transitionHosts(
  db: DbOrTx,
  params: { hostIds: string[]; to: HostState; from: HostState[]; at?: Date },
): Promise<{ id: string; name: string; oldState: HostState }[]> {
  if (params.hostIds.length === 0) return [];
  const at = params.at ?? new Date();
  const rows = await db.execute<{ id: string; name: string; old_state: HostState }>(sql`
    update ${hosts} h set state = ${params.to}, state_changed_at = ${at.toISOString()}::timestamptz, updated_at = ${at.toISOString()}::timestamptz
    from (select id, state from ${hosts} where id in ${params.hostIds} for update) old
    where h.id = old.id and old.state = any(${`{${params.from.join(",")}}`}::host_state[])
    returning h.id, h.name, old.state as old_state`);
  return rows.map((r) => ({ id: r.id, name: r.name, oldState: r.old_state }));
}

export async function insertHostEvents(db: DbOrTx, events: (typeof hostEvents.$inferInsert)[]): Promise<void> {
  if (events.length) await db.insert(hostEvents).values(events);
}

export async function listHostEvents(db: DbOrTx, params: { hostId: string; limit: number; onlyLeaseIds?: string[] }) {
  return db
    .select({ event: hostEvents, actorEmail: historyEmailOf<string | null>() })
    .from(hostEvents)
    .leftJoin(users, eq(users.id, hostEvents.actorUserId))
    .where(
      and(
        eq(hostEvents.hostId, params.hostId),
        params.onlyLeaseIds ? (params.onlyLeaseIds.length ? inArray(hostEvents.leaseId, params.onlyLeaseIds) : sql`false`) : undefined,
      ),
    )
    .orderBy(desc(hostEvents.at), desc(hostEvents.id))
    .limit(params.limit);
}

/** The lease history of a host: who held it, when. */
export async function listHostLeases(db: DbOrTx, params: { hostId: string; userId?: string; limit: number }) {
  return db
    .select({
      leaseId: leases.id,
      userEmail: historyEmailOf<string>(),
      userId: leases.userId,
      state: leases.state,
      addedAt: leaseHosts.addedAt,
      releasedAt: leaseHosts.releasedAt,
      endsAt: leases.endsAt,
    })
    .from(leaseHosts)
    .innerJoin(leases, eq(leases.id, leaseHosts.leaseId))
    .innerJoin(users, eq(users.id, leases.userId))
    .where(and(eq(leaseHosts.hostId, params.hostId), params.userId ? eq(leases.userId, params.userId) : undefined))
    .orderBy(desc(leaseHosts.addedAt))
    .limit(params.limit);
}

/** The active lease a host is in, if any, with its holder. */
export async function getActiveLeaseOfHost(db: DbOrTx, hostId: string) {
  const [row] = await db
    .select({ leaseId: leases.id, userId: leases.userId, projectId: leases.projectId, endsAt: leases.endsAt })
    .from(leaseHosts)
    .innerJoin(leases, eq(leases.id, leaseHosts.leaseId))
    .where(and(eq(leaseHosts.hostId, hostId), isNull(leaseHosts.releasedAt)))
    .limit(1);
  return row;
}

export async function countHostsByState(db: DbOrTx) {
  return db.select({ state: hosts.state, n: count() }).from(hosts).groupBy(hosts.state);
}

/** Many hosts in one statement (seeding, imports). */
export async function insertHosts(db: DbOrTx, values: HostInsert[]): Promise<HostRow[]> {
  if (values.length === 0) return [];
  return db.insert(hosts).values(values).returning();
}

export async function insertInterfaces(db: DbOrTx, values: (typeof hostInterfaces.$inferInsert)[]): Promise<void> {
  if (values.length) await db.insert(hostInterfaces).values(values);
}

/** The state of each host asked for (of every host without `ids`). */
export async function listHostStates(db: DbOrTx, ids?: string[]): Promise<{ id: string; state: HostState }[]> {
  if (ids?.length === 0) return [];
  return db
    .select({ id: hosts.id, state: hosts.state })
    .from(hosts)
    .where(ids ? inArray(hosts.id, ids) : undefined)
    .orderBy(asc(hosts.id));
}

export async function countHostEvents(db: DbOrTx, hostId: string): Promise<number> {
  const [r] = await db.select({ n: count() }).from(hostEvents).where(eq(hostEvents.hostId, hostId));
  return r?.n ?? 0;
}

/** Hosts last seen booting from an address (discovery records it). */
export async function countHostsBySourceIp(db: DbOrTx, sourceIp: string): Promise<number> {
  const [r] = await db.select({ n: count() }).from(hosts).where(eq(hosts.sourceIp, sourceIp));
  return r?.n ?? 0;
}

/** What happened to a host while it was in one lease, in the order it was recorded. */
export async function listHostEventsOfLease(db: DbOrTx, params: { hostId: string; leaseId: string }) {
  return db
    .select()
    .from(hostEvents)
    .where(and(eq(hostEvents.hostId, params.hostId), eq(hostEvents.leaseId, params.leaseId)))
    .orderBy(asc(hostEvents.id));
}
