// What the worker does to reservations every minute (workers/jobs/advance-reservations.ts), each
// step taking a clock so tests move time instead of waiting. Every step re-reads and locks the
// reservation and changes it only from the state it expects: safe to run twice, and from two
// workers at once.
//
//   scheduled ──prepareFrom──▶ preparing (deploy) / active ──startsAt──▶ active ──lease ends──▶ ended
//        └─ host fails before the start: re-chosen (or short, holder told)
import { insertLease, insertLeaseEvent, insertLeaseHosts, lockHosts } from "@/db/queries/leases";
import {
  deleteReservationBookings,
  getReservationRow,
  listDueReservationIds,
  listPendingJoins,
  listReservationHostRows,
  listReservationsNeedingHosts,
  listReservationsWithEndedLease,
  updateReservationRow,
} from "@/db/queries/reservations";
import { getUserById } from "@/db/queries/users";
import type { ReservationRow } from "@/db/schema";
import type { Db, DbOrTx } from "../db";
import { nowOf, type Clock } from "../clock";
import { SYSTEM } from "../access/actor";
import { recordAudit } from "../audit/audit";
import { transitionHostStates } from "../hosts/transition";
import { getLogger } from "../log";
import { checkReadyOutcome, startReadyDeploys } from "./ready";
import { rechooseReservationHosts } from "./hosts";

export type TickResult = { started: number; failed: number; joined: number; activated: number; ended: number; repaired: number };

/** Takes `hostIds` (available, locked by the caller) out of the reservation's bookings and into its lease. */
async function joinLease(tx: DbOrTx, r: ReservationRow, leaseId: string, hostIds: string[], now: Date, holderEmail: string): Promise<string[]> {
  if (hostIds.length === 0) return [];
  await deleteReservationBookings(tx, { reservationId: r.id, hostIds });
  // The trigger books them for the lease from now to its end: inside the reservation's own
  // booking just deleted, so no one else's time.
  await insertLeaseHosts(tx, leaseId, hostIds, now);
  const hosts = await transitionHostStates(tx, { hostIds, to: "leased", actorUserId: null, leaseId, message: `leased to ${holderEmail} (reservation)`, at: now });
  return hosts.map((h) => h.name).sort();
}

/** Ends a reservation that cannot start (its time passed, or no host is left to give it). */
async function failReservation(tx: DbOrTx, r: ReservationRow, reason: string): Promise<void> {
  await updateReservationRow(tx, r.id, { state: "failed", failureReason: reason }, ["scheduled"]);
  await deleteReservationBookings(tx, { reservationId: r.id });
  await recordAudit(tx, SYSTEM, { action: "reservation.fail", targetType: "reservation", targetId: r.id, summary: `could not start: ${reason}` });
}

/**
 * At prepareFrom a scheduled reservation becomes a lease (startsAt now, endsAt the
 * reservation's end) holding those of its hosts that are available; hosts still releasing from
 * their previous holder keep their reservation booking and join when they become available.
 * With a deploy, the ready deploys start after the commit (they run their own transactions).
 */
export async function startDueReservation(db: Db, id: string, clock: Clock = {}): Promise<"started" | "failed" | null> {
  const now = nowOf(clock);
  const out = await db.transaction(async (tx) => {
    const r = await getReservationRow(tx, id, { lock: true });
    if (!r || r.state !== "scheduled" || r.prepareFrom > now) return null;
    if (r.endsAt <= now) {
      await failReservation(tx, r, "its time passed before Kiln could start it (the worker was not running)");
      return { kind: "failed" as const };
    }
    const current = (await listReservationHostRows(tx, [r.id])).filter((h) => !h.replacedAt);
    if (current.length === 0) {
      await failReservation(tx, r, "no host was left to give it (every promised host failed and none was free to replace it)");
      return { kind: "failed" as const };
    }
    const holder = (await getUserById(tx, r.userId))!;
    const locked = await lockHosts(tx, current.map((h) => h.hostId));
    const ready = locked.filter((h) => h.state === "available").map((h) => h.id);
    const lease = await insertLease(tx, {
      projectId: r.projectId,
      userId: r.userId,
      createdByUserId: r.createdByUserId,
      poolId: r.poolId,
      startsAt: now,
      endsAt: r.endsAt,
      reservationId: r.id,
    });
    const names = await joinLease(tx, r, lease.id, ready, now, holder.email);
    const waiting = locked.filter((h) => h.state !== "available").map((h) => `${h.name} (${h.state})`);
    const state = r.deploy ? "preparing" : "active";
    await updateReservationRow(tx, r.id, { state, leaseId: lease.id }, ["scheduled"]);
    await insertLeaseEvent(tx, {
      leaseId: lease.id,
      at: now,
      actorUserId: null,
      kind: "created",
      message: `from reservation${r.title ? ` “${r.title}”` : ""}: ${names.length ? names.join(", ") : "no host yet"} leased to ${holder.email} until ${r.endsAt.toISOString()}${waiting.length ? `; waiting for ${waiting.join(", ")}` : ""}`,
      data: { reservationId: r.id, hostIds: ready },
    });
    await recordAudit(tx, SYSTEM, {
      action: "reservation.start",
      targetType: "reservation",
      targetId: r.id,
      summary: `${state === "preparing" ? "preparing" : "started"}: lease of ${names.length ? names.join(", ") : "no host yet"}${waiting.length ? `; waiting for ${waiting.join(", ")}` : ""}`,
      data: { leaseId: lease.id, hostIds: ready },
    });
    return { kind: "started" as const, reservation: { ...r, state, leaseId: lease.id } as ReservationRow, leaseId: lease.id, hostIds: ready };
  });
  if (!out) return null;
  if (out.kind === "started" && out.reservation.deploy && out.hostIds.length) {
    await startDeploys(db, out.reservation, out.leaseId, out.hostIds, now);
  }
  return out.kind;
}

async function startDeploys(db: Db, r: ReservationRow, leaseId: string, hostIds: string[], now: Date): Promise<void> {
  try {
    await startReadyDeploys(db, { reservation: r, leaseId, hostIds, now });
  } catch (e) {
    // The hosts are the holder's either way; the outcome at the start will say the plan was not met.
    getLogger("reservations").warn({ reservationId: r.id, err: (e as Error).message }, "ready deploys not started");
  }
}

/** Hosts of a started reservation that were still releasing join its lease once available. */
export async function joinPendingHosts(db: Db, clock: Clock = {}): Promise<number> {
  const now = nowOf(clock);
  let joined = 0;
  for (const j of await listPendingJoins(db)) {
    const done = await db.transaction(async (tx) => {
      const r = await getReservationRow(tx, j.reservationId, { lock: true });
      if (!r || !["preparing", "active"].includes(r.state) || r.leaseId !== j.leaseId) return null;
      const [host] = await lockHosts(tx, [j.hostId]);
      if (!host || host.state !== "available") return null;
      const holder = (await getUserById(tx, r.userId))!;
      const names = await joinLease(tx, r, j.leaseId, [j.hostId], now, holder.email);
      await insertLeaseEvent(tx, { leaseId: j.leaseId, at: now, actorUserId: null, kind: "joined", message: `${names.join(", ")} joined (released by its previous holder)`, data: { reservationId: r.id, hostId: j.hostId } });
      await recordAudit(tx, SYSTEM, { action: "reservation.host_joined", targetType: "reservation", targetId: r.id, summary: `${names.join(", ")} joined its lease` });
      return r;
    });
    if (!done) continue;
    joined++;
    if (done.deploy) await startDeploys(db, done, j.leaseId, [j.hostId], now);
  }
  return joined;
}

/** At startsAt: preparing → active, with whether "ready at the start" was met stored in plan.outcome. */
export async function activateReservation(db: Db, id: string, clock: Clock = {}): Promise<boolean> {
  const now = nowOf(clock);
  const r = await getReservationRow(db, id);
  if (!r || r.state !== "preparing" || r.startsAt > now) return false;
  const outcome = await checkReadyOutcome(db, { reservation: r, now });
  return db.transaction(async (tx) => {
    const row = await updateReservationRow(tx, id, { state: "active", plan: { ...(r.plan ?? { leadSeconds: 0, basis: "none", samples: 0 }), outcome } }, ["preparing"]);
    if (!row) return false;
    await recordAudit(tx, SYSTEM, {
      action: "reservation.activate",
      targetType: "reservation",
      targetId: id,
      summary: `started; ready at the start: ${outcome.met ? "yes" : "no"}${outcome.hosts.length ? ` (${outcome.hosts.filter((h) => h.met).length} of ${outcome.hosts.length} hosts ready)` : ""}`,
      data: { outcome },
    });
    return true;
  });
}

/** A started reservation whose lease has ended (expired, released) is ended; what it still had booked is freed. */
export async function endFinishedReservations(db: Db): Promise<number> {
  let ended = 0;
  for (const e of await listReservationsWithEndedLease(db)) {
    await db.transaction(async (tx) => {
      const row = await updateReservationRow(tx, e.id, { state: "ended" }, ["preparing", "active"]);
      if (!row) return;
      await deleteReservationBookings(tx, { reservationId: e.id });
      await recordAudit(tx, SYSTEM, { action: "reservation.end", targetType: "reservation", targetId: e.id, summary: `ended (its lease ${e.leaseState})` });
      ended++;
    });
  }
  return ended;
}

/** Host failure before the start: re-choose failed hosts of scheduled reservations (and top up short ones). */
export async function repairScheduledReservations(db: Db, clock: Clock = {}): Promise<number> {
  const now = nowOf(clock);
  let repaired = 0;
  for (const id of await listReservationsNeedingHosts(db)) {
    try {
      await db.transaction(async (tx) => {
        const r = await getReservationRow(tx, id, { lock: true });
        if (!r || r.state !== "scheduled") return;
        const res = await rechooseReservationHosts(tx, r, { now });
        if (res.replaced.some((x) => x.to)) repaired++;
      });
    } catch (e) {
      getLogger("reservations").warn({ reservationId: id, err: (e as Error).message }, "reservation hosts not re-chosen; will retry");
    }
  }
  return repaired;
}

/** One worker tick: repair before starting (a start takes the hosts as they are), then start, join, activate, end. */
export async function advanceReservations(db: Db, clock: Clock = {}): Promise<TickResult> {
  const now = nowOf(clock);
  const result: TickResult = { started: 0, failed: 0, joined: 0, activated: 0, ended: 0, repaired: 0 };
  result.repaired = await repairScheduledReservations(db, { now });
  for (const id of await listDueReservationIds(db, { state: "scheduled", at: "prepareFrom", now })) {
    const kind = await startDueReservation(db, id, { now });
    if (kind === "started") result.started++;
    if (kind === "failed") result.failed++;
  }
  result.joined = await joinPendingHosts(db, { now });
  for (const id of await listDueReservationIds(db, { state: "preparing", at: "startsAt", now })) {
    if (await activateReservation(db, id, { now })) result.activated++;
  }
  result.ended = await endFinishedReservations(db);
  return result;
}
