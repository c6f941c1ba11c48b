// Advance reservations and host bookings (maintenance windows' own rows: maintenance-windows.ts).
// host_bookings carries an exclusion constraint (migration 0017): whatever these queries miss
// under a race, PostgreSQL refuses a second booking of one host for an overlapping time (23P01),
// and lib/reservations retries. Admission's reads (free hosts, conflicts, quotas) stay in one file
// with the writes they guard, which is why it is longer than most.
import { and, asc, count, desc, eq, gt, inArray, isNull, lt, lte, notInArray, or, sql, type SQL } from "drizzle-orm";
import { historyEmailOf } from "./users";
import type { DbOrTx } from "../client";
import {
  hostBookings,
  hosts,
  leaseHosts,
  leases,
  maintenanceWindows,
  pools,
  projects,
  reservationHosts,
  reservations,
  users,
  type HostState,
  type ReservationRow,
  type ReservationState,
} from "../schema";
import { hostCriteria, type HostCriteriaInput } from "./host-criteria";

/** `[from, to)` as PostgreSQL's tstzrange. */
export function timeRange(from: Date, to: Date): SQL {
  return sql`tstzrange(${from.toISOString()}::timestamptz, ${to.toISOString()}::timestamptz)`;
}

/**
 * Host states a reservation may be promised: a leased or releasing host is free later (its
 * booking says until when). Not `new` or `broken` (not usable), and not `maintenance`: that
 * state has no end an admission could count on; an admin who knows when a host comes back
 * says so with a maintenance window, which admissions see.
 */
export const RESERVABLE_HOST_STATES = ["available", "leased", "releasing"] as const satisfies readonly HostState[];

/** No booking (lease or reservation) and no maintenance window (the host's or its pool's) overlaps [from, to). */
export function isFreeDuring(from: Date, to: Date): SQL {
  const r = timeRange(from, to);
  return sql`(not exists (select 1 from ${hostBookings} hb where hb.host_id = ${hosts.id} and hb.during && ${r})
    and not exists (select 1 from ${maintenanceWindows} mw where (mw.host_id = ${hosts.id} or mw.pool_id = ${hosts.poolId})
      and tstzrange(mw.starts_at, mw.ends_at) && ${r}))`;
}

export type ReservableHostsParams = {
  poolId?: string;
  hostIds?: string[];
  excludeHostIds?: string[];
  from: Date;
  to: Date;
  criteria: HostCriteriaInput;
};

function reservableWhere(p: ReservableHostsParams): SQL {
  return and(
    p.poolId ? eq(hosts.poolId, p.poolId) : undefined,
    p.hostIds ? inArray(hosts.id, p.hostIds) : undefined,
    p.excludeHostIds?.length ? notInArray(hosts.id, p.excludeHostIds) : undefined,
    inArray(hosts.state, [...RESERVABLE_HOST_STATES]),
    ...hostCriteria(p.criteria).map((c) => c.where),
    isFreeDuring(p.from, p.to),
  )!;
}

/**
 * Up to `count` hosts free for the whole of [from, to), by name. No row locks: two admissions
 * may pick the same host, and the booking insert (exclusion constraint) decides between them.
 */
export async function pickReservableHosts(db: DbOrTx, p: ReservableHostsParams & { count: number }): Promise<{ id: string; name: string }[]> {
  return db.select({ id: hosts.id, name: hosts.name }).from(hosts).where(reservableWhere(p)).orderBy(asc(hosts.name)).limit(p.count);
}

/** The hosts a request could be given if time were no object (pool, named hosts, criteria, usable state). */
export async function countCandidateHosts(db: DbOrTx, p: Omit<ReservableHostsParams, "from" | "to">): Promise<number> {
  const [r] = await db
    .select({ n: count() })
    .from(hosts)
    .where(
      and(
        p.poolId ? eq(hosts.poolId, p.poolId) : undefined,
        p.hostIds ? inArray(hosts.id, p.hostIds) : undefined,
        inArray(hosts.state, [...RESERVABLE_HOST_STATES]),
        ...hostCriteria(p.criteria).map((c) => c.where),
      ),
    );
  return r?.n ?? 0;
}

/** Bookings of candidate hosts that overlap [from, to): what stands in a refused admission's way, by project (never person). */
export async function listBookingConflicts(db: DbOrTx, p: Omit<ReservableHostsParams, "excludeHostIds"> & { limit: number }) {
  const rows = await db
    .select({
      hostName: hosts.name,
      leaseId: hostBookings.leaseId,
      reservationId: hostBookings.reservationId,
      projectName: projects.name,
      from: sql<string>`lower(${hostBookings.during})`,
      to: sql<string>`upper(${hostBookings.during})`,
    })
    .from(hostBookings)
    .innerJoin(hosts, eq(hosts.id, hostBookings.hostId))
    .leftJoin(leases, eq(leases.id, hostBookings.leaseId))
    .leftJoin(reservations, eq(reservations.id, hostBookings.reservationId))
    .innerJoin(projects, sql`${projects.id} = coalesce(${leases.projectId}, ${reservations.projectId})`)
    .where(
      and(
        p.poolId ? eq(hosts.poolId, p.poolId) : undefined,
        p.hostIds ? inArray(hosts.id, p.hostIds) : undefined,
        ...hostCriteria(p.criteria).map((c) => c.where),
        sql`${hostBookings.during} && ${timeRange(p.from, p.to)}`,
      ),
    )
    .orderBy(sql`lower(${hostBookings.during})`, asc(hosts.name))
    .limit(p.limit);
  return rows.map((r) => ({ ...r, kind: r.leaseId ? ("lease" as const) : ("reservation" as const), from: new Date(r.from), to: new Date(r.to) }));
}

/** Maintenance windows over a pool or over given hosts that overlap [from, to). */
export async function listMaintenanceConflicts(db: DbOrTx, p: { poolId?: string; hostIds?: string[]; from: Date; to: Date }) {
  const target = or(
    p.poolId ? eq(maintenanceWindows.poolId, p.poolId) : undefined,
    p.poolId ? sql`${maintenanceWindows.hostId} in (select id from ${hosts} where pool_id = ${p.poolId})` : undefined,
    p.hostIds?.length ? inArray(maintenanceWindows.hostId, p.hostIds) : undefined,
    p.hostIds?.length ? sql`${maintenanceWindows.poolId} in (select pool_id from ${hosts} where id in ${p.hostIds})` : undefined,
  );
  return db
    .select({ id: maintenanceWindows.id, hostName: hosts.name, poolName: pools.name, startsAt: maintenanceWindows.startsAt, endsAt: maintenanceWindows.endsAt, reason: maintenanceWindows.reason })
    .from(maintenanceWindows)
    .leftJoin(hosts, eq(hosts.id, maintenanceWindows.hostId))
    .leftJoin(pools, eq(pools.id, maintenanceWindows.poolId))
    .where(and(target, lt(maintenanceWindows.startsAt, p.to), gt(maintenanceWindows.endsAt, p.from)))
    .orderBy(asc(maintenanceWindows.startsAt));
}

/**
 * The most hosts a project holds or has booked at any one moment of [from, to): its active
 * leases' hosts and its reservations' booked hosts. Counted at the interval's start and at every
 * booking that begins inside it (the count only rises there).
 */
export async function getProjectPeakHosts(db: DbOrTx, p: { projectId: string; from: Date; to: Date }): Promise<number> {
  const from = p.from.toISOString();
  const rows = await db.execute<{ peak: number }>(sql`
    with b as (
      select hb.host_id, hb.during from ${hostBookings} hb
      left join ${leases} l on l.id = hb.lease_id
      left join ${reservations} r on r.id = hb.reservation_id
      where coalesce(l.project_id, r.project_id) = ${p.projectId} and hb.during && ${timeRange(p.from, p.to)}
    ), pts as (
      select ${from}::timestamptz as t
      union select lower(during) from b where lower(during) > ${from}::timestamptz
    )
    select coalesce(max((select count(distinct b.host_id) from b where b.during @> pts.t)), 0)::int as peak from pts`);
  return Number(rows[0]?.peak ?? 0);
}

export async function insertReservation(db: DbOrTx, values: typeof reservations.$inferInsert): Promise<ReservationRow> {
  const [row] = await db.insert(reservations).values(values).returning();
  return row!;
}

export async function getReservationRow(db: DbOrTx, id: string, options: { lock?: boolean } = {}): Promise<ReservationRow | undefined> {
  const q = db.select().from(reservations).where(eq(reservations.id, id)).limit(1);
  const [row] = options.lock ? await q.for("update") : await q;
  return row;
}

/** Updates a reservation, only while it is in one of `fromStates` when given; undefined when it was not. */
export async function updateReservationRow(db: DbOrTx, id: string, values: Partial<typeof reservations.$inferInsert>, fromStates?: ReservationState[]) {
  const [row] = await db
    .update(reservations)
    .set(values)
    .where(and(eq(reservations.id, id), fromStates ? inArray(reservations.state, fromStates) : undefined))
    .returning();
  return row;
}

export async function insertReservationHosts(db: DbOrTx, reservationId: string, hostIds: string[], at: Date): Promise<void> {
  if (hostIds.length) await db.insert(reservationHosts).values(hostIds.map((hostId) => ({ reservationId, hostId, chosenAt: at })));
}

export async function markReservationHostReplaced(db: DbOrTx, p: { reservationId: string; hostId: string; at: Date; reason: string }): Promise<void> {
  await db
    .update(reservationHosts)
    .set({ replacedAt: p.at, replacedReason: p.reason })
    .where(and(eq(reservationHosts.reservationId, p.reservationId), eq(reservationHosts.hostId, p.hostId), isNull(reservationHosts.replacedAt)));
}

/** Books hosts for a reservation over [from, to); fails with 23P01 when any overlaps another booking. */
export async function insertReservationBookings(db: DbOrTx, p: { reservationId: string; hostIds: string[]; from: Date; to: Date }): Promise<void> {
  if (p.hostIds.length === 0) return;
  const during = `[${p.from.toISOString()},${p.to.toISOString()})`;
  await db.insert(hostBookings).values(p.hostIds.map((hostId) => ({ hostId, during, reservationId: p.reservationId })));
}

export async function deleteReservationBookings(db: DbOrTx, p: { reservationId: string; hostIds?: string[] }): Promise<void> {
  await db.delete(hostBookings).where(and(eq(hostBookings.reservationId, p.reservationId), p.hostIds ? inArray(hostBookings.hostId, p.hostIds) : undefined));
}

export async function listReservationHostRows(db: DbOrTx, reservationIds: string[]) {
  if (reservationIds.length === 0) return [];
  return db
    .select({
      reservationId: reservationHosts.reservationId,
      hostId: hosts.id,
      name: hosts.name,
      state: hosts.state,
      chosenAt: reservationHosts.chosenAt,
      replacedAt: reservationHosts.replacedAt,
      replacedReason: reservationHosts.replacedReason,
    })
    .from(reservationHosts)
    .innerJoin(hosts, eq(hosts.id, reservationHosts.hostId))
    .where(inArray(reservationHosts.reservationId, reservationIds))
    .orderBy(asc(reservationHosts.chosenAt), asc(hosts.name));
}

export type ReservationListParams = {
  reservationId?: string;
  userId?: string;
  poolId?: string;
  state?: ReservationState;
  from?: Date;
  to?: Date;
  limit: number;
  offset: number;
};

export async function listReservationRows(db: DbOrTx, p: ReservationListParams) {
  const where = and(
    p.reservationId ? eq(reservations.id, p.reservationId) : undefined,
    p.userId ? eq(reservations.userId, p.userId) : undefined,
    p.poolId ? eq(reservations.poolId, p.poolId) : undefined,
    p.state ? eq(reservations.state, p.state) : undefined,
    p.from ? gt(reservations.endsAt, p.from) : undefined,
    p.to ? lt(reservations.prepareFrom, p.to) : undefined,
  );
  const rows = await db
    .select({ reservation: reservations, userEmail: historyEmailOf<string>(), projectName: projects.name, poolName: pools.name })
    .from(reservations)
    .innerJoin(users, eq(users.id, reservations.userId))
    .innerJoin(projects, eq(projects.id, reservations.projectId))
    .leftJoin(pools, eq(pools.id, reservations.poolId))
    .where(where)
    .orderBy(sql`${reservations.state} in ('scheduled', 'preparing', 'active') desc`, asc(reservations.startsAt), desc(reservations.createdAt))
    .limit(p.limit)
    .offset(p.offset);
  const [t] = await db.select({ n: count() }).from(reservations).where(where);
  return { rows, total: t?.n ?? 0 };
}

/** Reservations in `state` whose `column` time has come. */
export async function listDueReservationIds(db: DbOrTx, p: { state: ReservationState; at: "prepareFrom" | "startsAt"; now: Date; limit?: number }): Promise<string[]> {
  const col = p.at === "prepareFrom" ? reservations.prepareFrom : reservations.startsAt;
  const rows = await db
    .select({ id: reservations.id })
    .from(reservations)
    .where(and(eq(reservations.state, p.state), lte(col, p.now)))
    .orderBy(asc(col))
    .limit(p.limit ?? 500);
  return rows.map((r) => r.id);
}

/** Preparing or active reservations whose lease has ended. */
export async function listReservationsWithEndedLease(db: DbOrTx): Promise<{ id: string; leaseState: string; endedAt: Date | null }[]> {
  return db
    .select({ id: reservations.id, leaseState: leases.state, endedAt: leases.endedAt })
    .from(reservations)
    .innerJoin(leases, eq(leases.id, reservations.leaseId))
    .where(and(inArray(reservations.state, ["preparing", "active"]), sql`${leases.state} <> 'active'`));
}

/**
 * Hosts promised to a started reservation that are not in its lease yet and have now become
 * available (the previous holder's release finished): they join it.
 */
export async function listPendingJoins(db: DbOrTx): Promise<{ reservationId: string; leaseId: string; hostId: string }[]> {
  return db
    .select({ reservationId: reservations.id, leaseId: leases.id, hostId: reservationHosts.hostId })
    .from(reservations)
    .innerJoin(leases, and(eq(leases.id, reservations.leaseId), eq(leases.state, "active")))
    .innerJoin(reservationHosts, and(eq(reservationHosts.reservationId, reservations.id), isNull(reservationHosts.replacedAt)))
    .innerJoin(hosts, eq(hosts.id, reservationHosts.hostId))
    .where(
      and(
        inArray(reservations.state, ["preparing", "active"]),
        eq(hosts.state, "available"),
        sql`not exists (select 1 from ${leaseHosts} lh where lh.lease_id = ${leases.id} and lh.host_id = ${reservationHosts.hostId})`,
        sql`exists (select 1 from ${hostBookings} hb where hb.reservation_id = ${reservations.id} and hb.host_id = ${reservationHosts.hostId})`,
      ),
    );
}

/**
 * Scheduled reservations that need a host chosen again: one of their hosts is broken, in
 * maintenance or new again, or is under a maintenance window during their time, or they are
 * short of their count (an earlier replacement found none free).
 */
export async function listReservationsNeedingHosts(db: DbOrTx, limit = 200): Promise<string[]> {
  const rows = await db.execute<{ id: string }>(sql`
    select r.id from ${reservations} r
    where r.state = 'scheduled' and (
      exists (
        select 1 from ${reservationHosts} rh join ${hosts} h on h.id = rh.host_id
        where rh.reservation_id = r.id and rh.replaced_at is null and (
          h.state not in ('available', 'leased', 'releasing')
          or exists (select 1 from ${maintenanceWindows} mw where (mw.host_id = h.id or mw.pool_id = h.pool_id)
                     and tstzrange(mw.starts_at, mw.ends_at) && tstzrange(r.prepare_from, r.ends_at))))
      or r.count > (select count(*) from ${reservationHosts} rh where rh.reservation_id = r.id and rh.replaced_at is null))
    order by r.prepare_from limit ${limit}`);
  return rows.map((r) => r.id);
}

/** The current hosts of a reservation that can no longer keep its promise, with why. */
export async function listFailedReservationHosts(db: DbOrTx, r: ReservationRow): Promise<{ hostId: string; name: string; reason: string }[]> {
  const rows = await db.execute<{ hostId: string; name: string; state: string; window: string | null }>(sql`
    select h.id as "hostId", h.name, h.state::text as state,
      (select coalesce(nullif(mw.reason, ''), 'maintenance') || ' from ' || to_char(mw.starts_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC'
         from ${maintenanceWindows} mw where (mw.host_id = h.id or mw.pool_id = h.pool_id)
         and tstzrange(mw.starts_at, mw.ends_at) && ${timeRange(r.prepareFrom, r.endsAt)} order by mw.starts_at limit 1) as "window"
    from ${reservationHosts} rh join ${hosts} h on h.id = rh.host_id
    where rh.reservation_id = ${r.id} and rh.replaced_at is null
    order by h.name`);
  return rows.flatMap((h) => {
    if (!(RESERVABLE_HOST_STATES as readonly string[]).includes(h.state)) return [{ hostId: h.hostId, name: h.name, reason: `host is ${h.state}` }];
    if (h.window) return [{ hostId: h.hostId, name: h.name, reason: `maintenance window (${h.window})` }];
    return [];
  });
}

/**
 * The first booking of someone else, or maintenance window, on any of `hostIds` that overlaps
 * [from, to): what stops a lease from being extended to `to`.
 */
export async function getFirstConflictAfter(db: DbOrTx, p: { leaseId?: string; hostIds: string[]; from: Date; to: Date }) {
  if (p.hostIds.length === 0) return null;
  const [booking] = await db
    .select({
      hostName: hosts.name,
      reservationId: hostBookings.reservationId,
      projectName: projects.name,
      from: sql<string>`lower(${hostBookings.during})`,
    })
    .from(hostBookings)
    .innerJoin(hosts, eq(hosts.id, hostBookings.hostId))
    .leftJoin(leases, eq(leases.id, hostBookings.leaseId))
    .leftJoin(reservations, eq(reservations.id, hostBookings.reservationId))
    .innerJoin(projects, sql`${projects.id} = coalesce(${leases.projectId}, ${reservations.projectId})`)
    .where(
      and(
        inArray(hostBookings.hostId, p.hostIds),
        p.leaseId ? sql`${hostBookings.leaseId} is distinct from ${p.leaseId}` : undefined,
        sql`${hostBookings.during} && ${timeRange(p.from, p.to)}`,
      ),
    )
    .orderBy(sql`lower(${hostBookings.during})`)
    .limit(1);
  const [window] = await listMaintenanceConflicts(db, { hostIds: p.hostIds, from: p.from, to: p.to });
  const b = booking ? { kind: "booking" as const, hostName: booking.hostName, projectName: booking.projectName, reservation: Boolean(booking.reservationId), at: new Date(booking.from) } : null;
  const w = window ? { kind: "maintenance" as const, hostName: window.hostName, poolName: window.poolName, at: window.startsAt } : null;
  if (b && w) return b.at <= w.at ? b : w;
  return b ?? w;
}

/**
 * A pool's booking bookkeeping as the database holds it (what the race test checks): pairs of
 * overlapping bookings of one host (the constraint makes this 0), bookings, reservations'
 * current hosts, and current hosts without a booking of their reservation.
 */
export async function getPoolBookingFacts(db: DbOrTx, poolId: string) {
  const [row] = await db.execute<{ overlapping: number; bookings: number; reservationBookings: number; currentHosts: number; hostsWithoutBooking: number; reservationsAdmitted: number }>(sql`
    with b as (select hb.* from ${hostBookings} hb join ${hosts} h on h.id = hb.host_id where h.pool_id = ${poolId}),
         rh as (select rh.* from ${reservationHosts} rh join ${reservations} r on r.id = rh.reservation_id where r.pool_id = ${poolId} and rh.replaced_at is null)
    select
      (select count(*)::int from b b1 join b b2 on b1.host_id = b2.host_id and b1.id < b2.id and b1.during && b2.during) as overlapping,
      (select count(*)::int from b) as bookings,
      (select count(*)::int from b where reservation_id is not null) as "reservationBookings",
      (select count(*)::int from rh) as "currentHosts",
      (select count(*)::int from rh where not exists (select 1 from b where b.reservation_id = rh.reservation_id and b.host_id = rh.host_id)) as "hostsWithoutBooking",
      (select count(*)::int from ${reservations} where pool_id = ${poolId}) as "reservationsAdmitted"`);
  return row!;
}

/** The bookings of one reservation (host ids, bounds), for tests and the page. */
export async function listReservationBookings(db: DbOrTx, reservationId: string) {
  const rows = await db
    .select({ hostId: hostBookings.hostId, from: sql<string>`lower(${hostBookings.during})`, to: sql<string>`upper(${hostBookings.during})` })
    .from(hostBookings)
    .where(eq(hostBookings.reservationId, reservationId));
  return rows.map((r) => ({ hostId: r.hostId, from: new Date(r.from), to: new Date(r.to) }));
}
