// Queries of a lease's staged end (lib/leases/staged-end.ts): which leases have a stage to
// move on, what follows a lease on its hosts, the capture runs an end waits for.
import { and, asc, eq, gt, inArray, isNotNull, lte, ne, or, sql } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { deployments, hostBookings, hosts, leaseEvents, leaseHosts, leases, pools, projects, reservations, type LeaseRow } from "../schema";
import { timeRange } from "./reservations";

export type EndingLease = { lease: LeaseRow; graceMinutes: number; poolName: string | null };

/**
 * Active leases whose end has come and that have a step to take: those not yet in grace, and
 * those whose grace is over. A lease in grace until later is left out (it is not due yet).
 */
export async function listEndingLeases(db: DbOrTx, now: Date, limit = 500): Promise<EndingLease[]> {
  const rows = await db
    .select({ lease: leases, graceMinutes: pools.endGraceMinutes, poolName: pools.name })
    .from(leases)
    .leftJoin(pools, eq(pools.id, leases.poolId))
    .where(
      and(
        eq(leases.state, "active"),
        lte(leases.endsAt, now),
        or(sql`${leases.endStage} is null`, eq(leases.endStage, "warned"), sql`${leases.graceEndsAt} is null`, lte(leases.graceEndsAt, now)),
      ),
    )
    .orderBy(asc(leases.endsAt))
    .limit(limit);
  return rows.map((r) => ({ lease: r.lease, graceMinutes: r.graceMinutes ?? 0, poolName: r.poolName }));
}

/** Active leases in grace (or capturing) whose end was moved later (extended during grace). */
export async function listExtendedGraceLeases(db: DbOrTx, now: Date): Promise<LeaseRow[]> {
  return db
    .select()
    .from(leases)
    .where(and(eq(leases.state, "active"), inArray(leases.endStage, ["grace", "capturing"]), gt(leases.endsAt, now)));
}

/** Ended leases at a stage after the end that the worker moves on: capturing, releasing. */
export async function listEndedLeasesAtStages(db: DbOrTx, stages: ("capturing" | "releasing")[], limit = 500): Promise<LeaseRow[]> {
  return db
    .select()
    .from(leases)
    .where(and(ne(leases.state, "active"), inArray(leases.endStage, stages)))
    .orderBy(asc(leases.endedAt))
    .limit(limit);
}

/**
 * The earliest booking by someone else (another lease or a reservation) on one of these hosts
 * that starts before `before` and ends after `after`: what a grace period would run into.
 */
export async function getNextForeignBooking(db: DbOrTx, p: { leaseId: string; hostIds: string[]; after: Date; before: Date }) {
  if (p.hostIds.length === 0) return undefined;
  const [row] = await db
    .select({
      startsAt: sql<Date>`lower(${hostBookings.during})`.mapWith((v: string | Date) => new Date(v)),
      hostName: hosts.name,
      reservationId: hostBookings.reservationId,
      projectName: sql<string | null>`coalesce(${projects.name}, (select p2.name from ${leases} l2 join ${projects} p2 on p2.id = l2.project_id where l2.id = ${hostBookings.leaseId}))`,
    })
    .from(hostBookings)
    .innerJoin(hosts, eq(hosts.id, hostBookings.hostId))
    .leftJoin(reservations, eq(reservations.id, hostBookings.reservationId))
    .leftJoin(projects, eq(projects.id, reservations.projectId))
    .where(
      and(
        inArray(hostBookings.hostId, p.hostIds),
        sql`${hostBookings.leaseId} is distinct from ${p.leaseId}`,
        sql`${hostBookings.during} && ${timeRange(p.after, p.before)}`,
      ),
    )
    .orderBy(sql`lower(${hostBookings.during})`)
    .limit(1);
  return row;
}

/** Capture runs of this lease still under way. */
export async function listActiveCaptureDeployments(db: DbOrTx, leaseId: string) {
  return db
    .select({ id: deployments.id, hostId: deployments.hostId, tokenExpiresAt: deployments.tokenExpiresAt })
    .from(deployments)
    .where(and(eq(deployments.leaseId, leaseId), eq(deployments.action, "capture_disk"), inArray(deployments.state, ["pending", "running"])));
}

/** Capture runs of these leases (any state), newest first: what the stage strip reports. */
export async function listCaptureDeploymentsOfLeases(db: DbOrTx, leaseIds: string[]) {
  if (leaseIds.length === 0) return [];
  return db
    .select({ id: deployments.id, leaseId: deployments.leaseId, hostId: deployments.hostId, state: deployments.state, imageId: deployments.imageId, imageVersion: deployments.imageVersion, createdAt: deployments.createdAt })
    .from(deployments)
    .where(and(inArray(deployments.leaseId, leaseIds), eq(deployments.action, "capture_disk")))
    .orderBy(sql`${deployments.createdAt} desc`);
}

/** Hosts released at this lease's end that are still releasing (for it: not leased again since). */
export async function listHostsStillReleasing(db: DbOrTx, leaseId: string): Promise<{ id: string; name: string }[]> {
  return db
    .select({ id: hosts.id, name: hosts.name })
    .from(leaseHosts)
    .innerJoin(hosts, eq(hosts.id, leaseHosts.hostId))
    .where(
      and(
        eq(leaseHosts.leaseId, leaseId),
        isNotNull(leaseHosts.releasedAt),
        eq(hosts.state, "releasing"),
        sql`not exists (select 1 from ${leaseHosts} later where later.host_id = ${leaseHosts.hostId} and later.added_at > ${leaseHosts.addedAt} and later.lease_id <> ${leaseId})`,
      ),
    );
}

/** The stage events of these leases (kind end_stage), oldest first. */
export async function listStageEvents(db: DbOrTx, leaseIds: string[]) {
  if (leaseIds.length === 0) return [];
  return db
    .select({ leaseId: leaseEvents.leaseId, at: leaseEvents.at, data: leaseEvents.data, message: leaseEvents.message })
    .from(leaseEvents)
    .where(and(inArray(leaseEvents.leaseId, leaseIds), eq(leaseEvents.kind, "end_stage")))
    .orderBy(asc(leaseEvents.at), asc(leaseEvents.id));
}

/** Moves a lease's stage only from the stages given (two workers cannot both move it). */
export async function updateLeaseStage(db: DbOrTx, p: { leaseId: string; from: (LeaseRow["endStage"])[]; values: Partial<Pick<LeaseRow, "endStage" | "graceEndsAt">> }): Promise<LeaseRow | undefined> {
  const fromNull = p.from.includes(null);
  const named = p.from.filter((s): s is NonNullable<LeaseRow["endStage"]> => s !== null);
  const [row] = await db
    .update(leases)
    .set(p.values)
    .where(and(eq(leases.id, p.leaseId), or(fromNull ? sql`${leases.endStage} is null` : undefined, named.length ? inArray(leases.endStage, named) : undefined)))
    .returning();
  return row;
}

/** True when `e` is PostgreSQL refusing a second booking of a host at one time (23P01, host_bookings_no_overlap). */
export function isBookingOverlap(e: unknown): boolean {
  let cur: unknown = e;
  for (let i = 0; i < 4 && cur && typeof cur === "object"; i++) {
    if ((cur as { code?: unknown }).code === "23P01") return true;
    cur = (cur as { cause?: unknown }).cause;
  }
  return false;
}
