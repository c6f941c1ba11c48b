// The calendar's reads (a pool's timeline, ICS feeds) and its feed tokens. Bookings are read
// from host_bookings, the one table that says who holds which host when (leases and
// reservations alike), with the lease or reservation joined for its project and holder.
import { and, asc, eq, gt, inArray, isNull, lt, lte, ne, or, sql } from "drizzle-orm";
import type { DbOrTx } from "../client";
import {
  calendarFeeds,
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
  type CalendarFeedRow,
} from "../schema";
import { timeRange } from "./reservations";

export async function listPoolHostsForTimeline(db: DbOrTx, poolId: string) {
  return db.select({ id: hosts.id, name: hosts.name, state: hosts.state }).from(hosts).where(eq(hosts.poolId, poolId)).orderBy(asc(hosts.name));
}

/** One row per (host, booking) of the pool's hosts that overlaps [from, to). */
export async function listPoolBookings(db: DbOrTx, params: { poolId: string; from: Date; to: Date }) {
  return db
    .select({
      hostId: hostBookings.hostId,
      startsAt: sql<Date>`lower(${hostBookings.during})`.mapWith((v: string) => new Date(v)),
      endsAt: sql<Date>`upper(${hostBookings.during})`.mapWith((v: string) => new Date(v)),
      leaseId: hostBookings.leaseId,
      reservationId: hostBookings.reservationId,
      leaseState: leases.state,
      reservationState: reservations.state,
      reservationTitle: reservations.title,
      userId: sql<string>`coalesce(${leases.userId}, ${reservations.userId})`,
      projectName: projects.name,
    })
    .from(hostBookings)
    .innerJoin(hosts, eq(hosts.id, hostBookings.hostId))
    .leftJoin(leases, eq(leases.id, hostBookings.leaseId))
    .leftJoin(reservations, eq(reservations.id, hostBookings.reservationId))
    .leftJoin(projects, eq(projects.id, sql`coalesce(${leases.projectId}, ${reservations.projectId})`))
    .where(and(eq(hosts.poolId, params.poolId), sql`${hostBookings.during} && ${timeRange(params.from, params.to)}`))
    .orderBy(asc(hosts.name), sql`lower(${hostBookings.during})`);
}

/** Maintenance windows of the pool (pool-wide) or of one of its hosts, overlapping [from, to). */
export async function listPoolMaintenance(db: DbOrTx, params: { poolId: string; from: Date; to: Date }) {
  const inPool = db.select({ id: hosts.id }).from(hosts).where(eq(hosts.poolId, params.poolId));
  return db
    .select({
      id: maintenanceWindows.id,
      poolId: maintenanceWindows.poolId,
      hostId: maintenanceWindows.hostId,
      startsAt: maintenanceWindows.startsAt,
      endsAt: maintenanceWindows.endsAt,
      reason: maintenanceWindows.reason,
    })
    .from(maintenanceWindows)
    .where(
      and(
        or(and(eq(maintenanceWindows.poolId, params.poolId), isNull(maintenanceWindows.hostId)), inArray(maintenanceWindows.hostId, inPool)),
        lt(maintenanceWindows.startsAt, params.to),
        gt(maintenanceWindows.endsAt, params.from),
      ),
    )
    .orderBy(asc(maintenanceWindows.startsAt));
}

// Feed tokens.

export async function insertCalendarFeed(db: DbOrTx, values: typeof calendarFeeds.$inferInsert): Promise<CalendarFeedRow> {
  const [row] = await db.insert(calendarFeeds).values(values).returning();
  return row!;
}

export async function listCalendarFeedRows(db: DbOrTx, userId: string) {
  return db
    .select({ id: calendarFeeds.id, poolId: calendarFeeds.poolId, poolName: pools.name, createdAt: calendarFeeds.createdAt, lastUsedAt: calendarFeeds.lastUsedAt })
    .from(calendarFeeds)
    .leftJoin(pools, eq(pools.id, calendarFeeds.poolId))
    .where(eq(calendarFeeds.userId, userId))
    .orderBy(asc(calendarFeeds.createdAt));
}

/** The user's feeds of one scope (poolId null: "my bookings"), deleted; returns their ids. */
export async function deleteCalendarFeedsOfScope(db: DbOrTx, params: { userId: string; poolId: string | null }): Promise<string[]> {
  const rows = await db
    .delete(calendarFeeds)
    .where(and(eq(calendarFeeds.userId, params.userId), params.poolId ? eq(calendarFeeds.poolId, params.poolId) : isNull(calendarFeeds.poolId)))
    .returning({ id: calendarFeeds.id });
  return rows.map((r) => r.id);
}

export async function deleteCalendarFeedRow(db: DbOrTx, params: { id: string; userId: string }): Promise<CalendarFeedRow | undefined> {
  const [row] = await db
    .delete(calendarFeeds)
    .where(and(eq(calendarFeeds.id, params.id), eq(calendarFeeds.userId, params.userId)))
    .returning();
  return row;
}

export async function getCalendarFeedByHash(db: DbOrTx, tokenHash: string) {
  const [row] = await db
    .select({ feed: calendarFeeds, user: users, poolName: pools.name })
    .from(calendarFeeds)
    .innerJoin(users, eq(users.id, calendarFeeds.userId))
    .leftJoin(pools, eq(pools.id, calendarFeeds.poolId))
    .where(eq(calendarFeeds.tokenHash, tokenHash))
    .limit(1);
  return row;
}

export async function touchCalendarFeed(db: DbOrTx, id: string, at: Date): Promise<void> {
  await db.update(calendarFeeds).set({ lastUsedAt: at }).where(eq(calendarFeeds.id, id));
}

/** A user's leases that end after `since` (active or ended), with their hosts' names and project. */
export async function listUserLeasesForFeed(db: DbOrTx, params: { userId: string; since: Date }) {
  return db
    .select({
      id: leases.id,
      state: leases.state,
      startsAt: leases.startsAt,
      endsAt: leases.endsAt,
      endedAt: leases.endedAt,
      poolName: pools.name,
      projectName: projects.name,
      hostNames: sql<string[]>`coalesce(array_agg(${hosts.name} order by ${hosts.name}) filter (where ${hosts.id} is not null), '{}')`,
    })
    .from(leases)
    .innerJoin(projects, eq(projects.id, leases.projectId))
    .leftJoin(pools, eq(pools.id, leases.poolId))
    .leftJoin(leaseHosts, eq(leaseHosts.leaseId, leases.id))
    .leftJoin(hosts, eq(hosts.id, leaseHosts.hostId))
    .where(and(eq(leases.userId, params.userId), sql`coalesce(${leases.endedAt}, ${leases.endsAt}) > ${params.since.toISOString()}::timestamptz`))
    .groupBy(leases.id, pools.name, projects.name)
    .orderBy(asc(leases.startsAt));
}

/**
 * A user's reservations that end after `since` and did not become a lease (a started
 * reservation is shown by its lease) nor were cancelled.
 */
export async function listUserReservationsForFeed(db: DbOrTx, params: { userId: string; since: Date }) {
  return db
    .select({
      id: reservations.id,
      state: reservations.state,
      title: reservations.title,
      count: reservations.count,
      startsAt: reservations.startsAt,
      endsAt: reservations.endsAt,
      poolName: pools.name,
      projectName: projects.name,
      hostNames: sql<string[]>`coalesce(array_agg(${hosts.name} order by ${hosts.name}) filter (where ${hosts.id} is not null), '{}')`,
    })
    .from(reservations)
    .innerJoin(projects, eq(projects.id, reservations.projectId))
    .leftJoin(pools, eq(pools.id, reservations.poolId))
    .leftJoin(reservationHosts, and(eq(reservationHosts.reservationId, reservations.id), isNull(reservationHosts.replacedAt)))
    .leftJoin(hosts, eq(hosts.id, reservationHosts.hostId))
    .where(
      and(
        eq(reservations.userId, params.userId),
        gt(reservations.endsAt, params.since),
        inArray(reservations.state, ["scheduled", "preparing", "failed"]),
        isNull(reservations.leaseId),
      ),
    )
    .groupBy(reservations.id, pools.name, projects.name)
    .orderBy(asc(reservations.startsAt));
}

// Reminders before a reservation's start.

/** Reservations not yet started, within `hours` of their start, not yet reminded at that offset. */
export async function listReservationsToRemind(db: DbOrTx, params: { now: Date; hours: number }) {
  const horizon = new Date(params.now.getTime() + params.hours * 3600_000);
  return db
    .select({ reservation: reservations, email: users.email, poolName: pools.name, projectName: projects.name })
    .from(reservations)
    .innerJoin(users, eq(users.id, reservations.userId))
    .innerJoin(projects, eq(projects.id, reservations.projectId))
    .leftJoin(pools, eq(pools.id, reservations.poolId))
    .where(
      and(
        inArray(reservations.state, ["scheduled", "preparing"]),
        gt(reservations.startsAt, params.now),
        lte(reservations.startsAt, horizon),
        sql`not (${params.hours}::int = any(${reservations.remindersSent}))`,
      ),
    );
}

/** Marks the offset as mailed; false when it already was (another worker got there first). */
export async function addReservationReminderSent(db: DbOrTx, params: { reservationId: string; hours: number }): Promise<boolean> {
  const rows = await db
    .update(reservations)
    .set({ remindersSent: sql`array_append(${reservations.remindersSent}, ${params.hours}::int)` })
    .where(and(eq(reservations.id, params.reservationId), ne(reservations.state, "cancelled"), sql`not (${params.hours}::int = any(${reservations.remindersSent}))`))
    .returning({ id: reservations.id });
  return rows.length > 0;
}

/** The hosts a reservation holds now (replaced ones left out), by name. */
export async function listReservationHostNames(db: DbOrTx, reservationId: string): Promise<string[]> {
  const rows = await db
    .select({ name: hosts.name })
    .from(reservationHosts)
    .innerJoin(hosts, eq(hosts.id, reservationHosts.hostId))
    .where(and(eq(reservationHosts.reservationId, reservationId), isNull(reservationHosts.replacedAt)))
    .orderBy(asc(hosts.name));
  return rows.map((r) => r.name);
}
