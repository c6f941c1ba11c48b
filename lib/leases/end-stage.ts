// The stages of a lease's end, as stored (leases.end_stage) and shown (the stage strip):
// warned → grace → capturing → releasing → returned. This module only records and reads
// them; ./staged-end.ts moves leases through them. Kept apart so that ./leases.ts and
// ./release.ts can use it without importing the orchestration that imports them.
import { getLeaseRow, insertLeaseEvent, listLeaseHostRows } from "@/db/queries/leases";
import { listActiveCaptureDeployments, listCaptureDeploymentsOfLeases, listHostsStillReleasing, listStageEvents, updateLeaseStage } from "@/db/queries/lease-ends";
import { getPoolRow } from "@/db/queries/pools";
import type { DeploymentRow, LeaseRow } from "@/db/schema";
import { LEASE_END_STAGES } from "@/db/schema/enums";
import type { Db, DbOrTx } from "../db";
import { isoMinute } from "../clock";

export type EndStage = (typeof LEASE_END_STAGES)[number];

/**
 * How long past the end of its grace (or of the lease, without grace) a release waits for a
 * capture still under way before it cancels it and wipes. The run's own watchdog fails a
 * capture that makes no progress for 10 minutes (lib/deployments/plan.ts) well before this;
 * this bounds one that crawls along.
 */
export const CAPTURE_OVERRUN_HOURS = 4;

/** The lease event kind of a stage transition; its data names the stage. */
export const STAGE_EVENT = "end_stage";

export async function recordStage(tx: DbOrTx, p: { leaseId: string; stage: EndStage; at: Date; message: string; actorUserId?: string | null; data?: Record<string, unknown> }): Promise<void> {
  await insertLeaseEvent(tx, { leaseId: p.leaseId, at: p.at, actorUserId: p.actorUserId ?? null, kind: STAGE_EVENT, message: p.message, data: { stage: p.stage, ...p.data } });
}

/** The first stage: the holder was reminded of the end (the reminder mail offers the capture). */
export async function markWarned(tx: DbOrTx, lease: Pick<LeaseRow, "id" | "endsAt">, at: Date): Promise<void> {
  // Each reminder is a warning (24 h, then 1 h before, and again after an extension): the strip shows the latest.
  if (!(await updateLeaseStage(tx, { leaseId: lease.id, from: [null, "warned"], values: { endStage: "warned" } }))) return;
  await recordStage(tx, { leaseId: lease.id, stage: "warned", at, message: `reminded that the lease ends at ${isoMinute(lease.endsAt)} UTC; capture of the disk offered` });
}

/**
 * In a lease's release transaction: its hosts wait for the lease's capture runs under way
 * (capturing), or go straight to power-off and wipe (releasing).
 */
export async function markReleaseStage(tx: DbOrTx, lease: Pick<LeaseRow, "id" | "endStage">, p: { at: Date; actorUserId: string | null; hostNames: string[] }): Promise<EndStage> {
  const captures = await listActiveCaptureDeployments(tx, lease.id);
  if (captures.length > 0) {
    if (lease.endStage !== "capturing") {
      await updateLeaseStage(tx, { leaseId: lease.id, from: [null, "warned", "grace"], values: { endStage: "capturing" } });
      await recordStage(tx, { leaseId: lease.id, stage: "capturing", at: p.at, actorUserId: p.actorUserId, message: captureWaitMessage(captures.length), data: { deploymentIds: captures.map((c) => c.id) } });
    }
    return "capturing";
  }
  await updateLeaseStage(tx, { leaseId: lease.id, from: [null, "warned", "grace", "capturing"], values: { endStage: "releasing" } });
  await recordStage(tx, { leaseId: lease.id, stage: "releasing", at: p.at, actorUserId: p.actorUserId, message: `powering off and wiping ${p.hostNames.join(", ") || "the hosts"}` });
  return "releasing";
}

/** The last stage: no host released at this lease's end is still releasing for it. */
export async function markReturnedIfBack(db: Db, leaseId: string, now: Date): Promise<boolean> {
  if ((await listHostsStillReleasing(db, leaseId)).length > 0) return false;
  return db.transaction(async (tx) => {
    const row = await updateLeaseStage(tx, { leaseId, from: ["releasing"], values: { endStage: "returned" } });
    if (!row) return false;
    const hosts = (await listLeaseHostRows(tx, [leaseId])).map((h) => `${h.name} (${h.state})`);
    await recordStage(tx, { leaseId, stage: "returned", at: now, message: `back in the pool: ${hosts.join(", ")}` });
    return true;
  });
}

export function captureWaitMessage(n: number): string {
  return `the release waits for ${n === 1 ? "the capture" : `${n} captures`} under way (at most ${CAPTURE_OVERRUN_HOURS} hours past the end) before power-off and wipe`;
}

/**
 * Whether a release leaves this run alone for now: a capture of the disk under a lease whose
 * end waits for it (capturing), within CAPTURE_OVERRUN_HOURS of that end. Anything else the
 * last holder left running is cancelled (./release.ts).
 */
export async function isCaptureToWaitFor(db: DbOrTx, run: Pick<DeploymentRow, "action" | "leaseId">, now: Date): Promise<boolean> {
  if (run.action !== "capture_disk" || !run.leaseId) return false;
  const lease = await getLeaseRow(db, run.leaseId);
  if (!lease || lease.endStage !== "capturing") return false;
  const end = Math.max(lease.graceEndsAt?.getTime() ?? 0, lease.endsAt.getTime(), lease.endedAt?.getTime() ?? 0);
  return now.getTime() < end + CAPTURE_OVERRUN_HOURS * 3600_000;
}

export type LeaseEndView = {
  /** The stage reached; null before the first (no reminder yet). */
  stage: EndStage | null;
  graceEndsAt: string | null;
  /** The pool's grace period (0: none; the strip then skips grace). */
  graceMinutes: number;
  /** Each stage reached, with when and what happened. */
  stages: { stage: EndStage; at: string; message: string }[];
  /** Capture runs under this lease, newest first. */
  captures: { deploymentId: string; hostId: string; state: string; imageId: string | null; imageVersion: number | null }[];
};

/** The stage strip's data for these leases, in three queries whatever their number. */
export async function loadLeaseEnds(db: DbOrTx, leases: Pick<LeaseRow, "id" | "poolId" | "endStage" | "graceEndsAt">[]): Promise<Map<string, LeaseEndView>> {
  const ids = leases.map((l) => l.id);
  const [events, captures] = await Promise.all([listStageEvents(db, ids), listCaptureDeploymentsOfLeases(db, ids)]);
  const poolIds = [...new Set(leases.map((l) => l.poolId).filter((p): p is string => p !== null))];
  const graceOf = new Map<string, number>();
  for (const id of poolIds) graceOf.set(id, (await getPoolRow(db, id))?.endGraceMinutes ?? 0);
  const out = new Map<string, LeaseEndView>();
  for (const l of leases) {
    out.set(l.id, {
      stage: l.endStage,
      graceEndsAt: l.graceEndsAt?.toISOString() ?? null,
      graceMinutes: l.poolId ? (graceOf.get(l.poolId) ?? 0) : 0,
      stages: events
        .filter((e) => e.leaseId === l.id && (LEASE_END_STAGES as readonly string[]).includes(String(e.data.stage)))
        .map((e) => ({ stage: e.data.stage as EndStage, at: e.at.toISOString(), message: e.message })),
      captures: captures
        .filter((c) => c.leaseId === l.id)
        .map((c) => ({ deploymentId: c.id, hostId: c.hostId, state: c.state, imageId: c.imageId, imageVersion: c.imageVersion })),
    });
  }
  return out;
}
