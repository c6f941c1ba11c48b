// The staged end of a lease (issue 16, item 6): warned (the reminder mail, which offers a
// capture of the disk) → grace (the pool's endGraceMinutes after the end: the holder can only
// capture the disk or release) → capturing (capture runs the release waits for) → releasing
// (power off and wipe: ./release.ts) → returned (every host back in its pool). Each transition
// is a lease event (kind end_stage) with its time; ./end-stage.ts records and reads them.
//
// The worker's expiry job calls advanceLeaseEnds every minute; every step is safe to run twice
// and from two workers (stage updates name the stage they move from).
//
// A grace keeps the lease active, so its host_bookings run to grace_ends_at (the trigger of
// migration 0017). When someone else's booking (a reservation) follows, PostgreSQL refuses the
// overlap (23P01): the grace is cut to that booking's start, or skipped when nothing is left,
// and the lease's events say why.
import { getNextForeignBooking, isBookingOverlap, listActiveCaptureDeployments, listEndedLeasesAtStages, listEndingLeases, listExtendedGraceLeases, listHostsStillReleasing, updateLeaseStage, type EndingLease } from "@/db/queries/lease-ends";
import { getLeaseRow, insertLeaseEvent, listLeaseHostRows } from "@/db/queries/leases";
import type { Db } from "../db";
import { isoMinute, type Clock } from "../clock";
import { isOwnerOrAdmin, SYSTEM, type Actor } from "../access/actor";
import { recordAudit } from "../audit/audit";
import { AppError, isAppError } from "../errors";
import { getLogger } from "../log";
import { createImage } from "../images/images";
import { type DeploymentView } from "../deployments/views";
import { startDeployment } from "../deployments/start";
import { leaseCaptureSchema } from "../validation/lease-end";
import { parseInput } from "../validation/parse";
import { recordStage, captureWaitMessage, markReturnedIfBack } from "./end-stage";
import { releaseLease } from "./leases";
import { completeHostReleases } from "./release";

const MINUTE = 60_000;

export type AdvanceResult = { expired: number; grace: number; releasing: number; returned: number };

/** One pass of the staged end over every lease that has a step to take at `now`. */
export async function advanceLeaseEnds(db: Db, clock: Clock = {}): Promise<AdvanceResult> {
  const now = clock.now ?? new Date();
  const result: AdvanceResult = { expired: 0, grace: 0, releasing: 0, returned: 0 };
  await restartExtendedEnds(db, now);
  for (const ending of await listEndingLeases(db, now)) {
    if ((ending.lease.endStage === null || ending.lease.endStage === "warned") && (await enterGrace(db, ending, now))) {
      result.grace++;
      continue;
    }
    try {
      await releaseLease(db, SYSTEM, ending.lease.id, { now, reason: "expired" });
      result.expired++;
    } catch (e) {
      // Released by its holder a moment ago: nothing left to do.
      if (!(isAppError(e) && e.code === "conflict")) throw e;
    }
  }
  for (const lease of await listEndedLeasesAtStages(db, ["capturing"])) {
    if (await finishCaptureWait(db, lease.id, now)) result.releasing++;
  }
  for (const lease of await listEndedLeasesAtStages(db, ["releasing"])) {
    if (await markReturnedIfBack(db, lease.id, now)) result.returned++;
  }
  return result;
}

/**
 * The lease's end has come and its pool grants a grace: the lease stays active until
 * endsAt + grace (one UPDATE; the trigger extends the bookings). Returns false when there is
 * no grace to enter (none set, already over, or a following booking leaves no time).
 */
async function enterGrace(db: Db, { lease, graceMinutes, poolName }: EndingLease, now: Date): Promise<boolean> {
  if (graceMinutes <= 0) return false;
  const full = new Date(lease.endsAt.getTime() + graceMinutes * MINUTE);
  // The worker was down for the whole grace: there is nothing left to offer.
  if (full.getTime() <= now.getTime()) return false;
  const hostIds = (await listLeaseHostRows(db, [lease.id])).filter((h) => !h.releasedAt).map((h) => h.hostId);
  const tryGrace = async (until: Date, message: string, data: Record<string, unknown>) => {
    try {
      return await db.transaction(async (tx) => {
        const row = await updateLeaseStage(tx, { leaseId: lease.id, from: [null, "warned"], values: { endStage: "grace", graceEndsAt: until } });
        // Another worker moved it a moment ago (into grace, most likely): not ours to release now.
        if (!row) return true;
        await recordStage(tx, { leaseId: lease.id, stage: "grace", at: now, message, data: { graceEndsAt: until.toISOString(), ...data } });
        return true;
      });
    } catch (e) {
      if (isBookingOverlap(e)) return null;
      throw e;
    }
  };
  const granted = `grace until ${isoMinute(full)} UTC (pool ${poolName ?? "?"}: ${graceMinutes} minutes): the disk can be captured into an image before the wipe`;
  const first = await tryGrace(full, granted, { minutes: graceMinutes });
  if (first !== null) return first;

  // Someone's booking starts within the grace: cut the grace to its start.
  const next = await getNextForeignBooking(db, { leaseId: lease.id, hostIds, after: lease.endsAt, before: full });
  const whose = next ? `${next.hostName} is booked from ${isoMinute(next.startsAt)} UTC${next.projectName ? ` by project ${next.projectName}` : ""}${next.reservationId ? " (a reservation)" : ""}` : "a host is booked right after the lease";
  if (next && next.startsAt.getTime() > now.getTime() && next.startsAt.getTime() > lease.endsAt.getTime()) {
    const cut = await tryGrace(next.startsAt, `grace cut short to ${isoMinute(next.startsAt)} UTC (pool ${poolName ?? "?"} grants ${graceMinutes} minutes): ${whose}`, {
      minutes: graceMinutes,
      cutShortBy: next.reservationId ?? null,
    });
    if (cut !== null) return cut;
  }
  await insertLeaseEvent(db, { leaseId: lease.id, at: now, actorUserId: null, kind: "grace_skipped", message: `no grace period (pool ${poolName ?? "?"} grants ${graceMinutes} minutes): ${whose}`, data: { reservationId: next?.reservationId ?? null } });
  return false;
}

/** A lease extended while in grace is an ordinary lease again; its staged end starts over at the new end. */
async function restartExtendedEnds(db: Db, now: Date): Promise<void> {
  for (const lease of await listExtendedGraceLeases(db, now)) {
    await db.transaction(async (tx) => {
      const row = await updateLeaseStage(tx, { leaseId: lease.id, from: ["grace", "capturing"], values: { endStage: null, graceEndsAt: null } });
      if (row) await insertLeaseEvent(tx, { leaseId: lease.id, at: now, actorUserId: null, kind: "grace_ended", message: `extended during its grace: the lease runs to ${isoMinute(lease.endsAt)} UTC and its end starts over then` });
    });
  }
}

/**
 * An ended lease whose release waited for captures: hosts whose capture is over are wiped
 * (completeHostReleases also cancels a capture past CAPTURE_OVERRUN_HOURS); once no capture
 * is left the lease is releasing.
 */
async function finishCaptureWait(db: Db, leaseId: string, now: Date): Promise<boolean> {
  const waiting = await listHostsStillReleasing(db, leaseId);
  await completeHostReleases(db, waiting.map((h) => h.id), { leaseId, now });
  if ((await listActiveCaptureDeployments(db, leaseId)).length > 0) return false;
  return db.transaction(async (tx) => {
    const row = await updateLeaseStage(tx, { leaseId, from: ["capturing"], values: { endStage: "releasing" } });
    if (!row) return false;
    await recordStage(tx, { leaseId, stage: "releasing", at: now, message: `captures over: powering off and wiping ${waiting.map((h) => h.name).join(", ") || "the hosts"}` });
    return true;
  });
}

/**
 * "Capture disk to image…" on a lease: a capture_disk run on one of its hosts into an image
 * the caller may add versions to, or into a new private image of theirs. Allowed while the
 * lease is active — before its end (the reminder mail's offer) and in its grace, when it is
 * the only run allowed. In grace the lease moves to capturing, and its release then waits for
 * the run (./end-stage.ts isCaptureToWaitFor).
 */
export async function startLeaseCapture(db: Db, actor: Actor, leaseId: string, input: unknown, clock: Clock = {}): Promise<DeploymentView> {
  const data = parseInput(leaseCaptureSchema, input);
  const now = clock.now ?? new Date();
  const lease = await getLeaseRow(db, leaseId);
  if (!lease || !isOwnerOrAdmin(actor, lease.userId)) throw new AppError("not_found", "That lease does not exist.");
  if (lease.state !== "active") {
    throw new AppError("conflict", `This lease has ${lease.state === "expired" ? "expired" : "been released"} and its disks are being wiped (or were): there is nothing left to capture.`);
  }
  const held = (await listLeaseHostRows(db, [leaseId])).filter((h) => !h.releasedAt);
  if (!held.some((h) => h.hostId === data.hostId)) throw AppError.field("hostId", "That host is not in this lease.");
  const imageId = data.imageId ?? (await createImage(db, actor, { name: data.newImageName, description: `captured from lease ${leaseId}` })).id;
  const run = await startDeployment(db, actor, data.hostId, { action: "capture_disk", imageId }, { now });
  const host = held.find((h) => h.hostId === data.hostId)!;
  await db.transaction(async (tx) => {
    const moved = await updateLeaseStage(tx, { leaseId, from: ["grace"], values: { endStage: "capturing" } });
    if (moved) {
      await recordStage(tx, { leaseId, stage: "capturing", at: now, actorUserId: actor.user?.id ?? null, message: `capturing ${host.name} into an image (deployment ${run.id}); ${captureWaitMessage(1)}`, data: { deploymentId: run.id } });
    } else {
      await insertLeaseEvent(tx, { leaseId, at: now, actorUserId: actor.user?.id ?? null, kind: "capture", message: `capturing ${host.name} into an image (deployment ${run.id})`, data: { deploymentId: run.id } });
    }
    await recordAudit(tx, actor, { action: "lease.capture", targetType: "lease", targetId: leaseId, summary: `started a capture of ${host.name} into image ${imageId}`, data: { deploymentId: run.id, hostId: host.hostId, imageId } });
  });
  getLogger("leases").info({ leaseId, deploymentId: run.id, stage: lease.endStage }, "capture started from the lease");
  return run;
}
