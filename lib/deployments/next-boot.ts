// What a machine does at its next network boot, decided in one place for the boot route and
// the host page: run its active deployment, boot its disk, or halt because the last write to
// that disk failed or was cancelled part-way (a half-written or mismatched disk must never
// boot). The halt lasts until someone acts: a new run that writes the disk and finishes
// (deploy, install, wipe), or the holder or an administrator choosing "boot the disk anyway"
// (allowDiskBoot), which is recorded on the failed run and in the audit log.
import { getLiveDisklessRoot } from "@/db/queries/diskless";
import { getActiveDeployment, listHostDeployments, updateDeploymentRow } from "@/db/queries/boot";
import { listSteps } from "@/db/queries/deployments";
import { getHostRow, insertHostEvents } from "@/db/queries/hosts";
import type { DeploymentRow, DeploymentStepRow } from "@/db/schema";
import type { Db, DbOrTx } from "../db";
import { AppError } from "../errors";
import { type Actor } from "../access/actor";
import { recordAudit } from "../audit/audit";
import { assertHostHolder } from "../access/hosts";
import { isActiveDeployment } from "../hosts/state-machine";
import { ACTION_LABELS } from "./plan";
import { DISK_STEP } from "./consequences";

/** How far back the decision looks: a disk is decided by its latest run that touched it. */
const HISTORY = 20;

export type NextBoot =
  | { kind: "run"; deploymentId: string; action: DeploymentRow["action"]; label: string }
  | { kind: "disk" }
  | { kind: "halt"; deploymentId: string; reason: string; state: "failed" | "cancelled"; finishedAt: string | null }
  /** A live diskless root (docs/diskless.md): booted at every network boot while no other run is active. */
  | { kind: "diskless"; imageId: string; imageVersion: number; deploymentId: string | null; resetAt: string | null };


/**
 * Pure: the decision from the host's runs (newest first, with their steps). Capture runs only
 * read the disk, and a run that ended before its disk step started left the disk as it was;
 * both are passed over. The first run left that touched the disk decides: a deploy that failed
 * or was cancelled there halts the machine (unless someone allowed the disk to boot); anything
 * else boots the disk. An active run (pending, running) is answered with its script, until its
 * disk is written and it only waits for the installed system to call done (diskWrittenAt).
 */
export function decideNextBoot(runs: { deployment: DeploymentRow; steps: DeploymentStepRow[] }[]): NextBoot {
  const active = runs.find((r) => isActiveDeployment(r.deployment.state));
  // Written and verified, waiting for the installed system's first boot (cloud-init): the
  // machine must boot what was written, not the deploy ramdisk again.
  if (active?.deployment.diskWrittenAt) return { kind: "disk" };
  if (active) return { kind: "run", deploymentId: active.deployment.id, action: active.deployment.action, label: ACTION_LABELS[active.deployment.action] };
  for (const { deployment: d, steps } of runs) {
    const diskStep = DISK_STEP[d.action];
    if (!diskStep) continue;
    const touched = d.state === "done" || steps.some((s) => s.name === diskStep && s.startedAt !== null);
    if (!touched) continue;
    // A run that failed or was cancelled after its image was written and verified (waiting for
    // cloud-init's first boot) left a whole disk: it boots.
    if (d.action === "deploy_image" && (d.state === "failed" || d.state === "cancelled") && !d.diskBootAllowedAt && !d.diskWrittenAt) {
      return { kind: "halt", deploymentId: d.id, reason: d.failureReason ?? d.state, state: d.state, finishedAt: d.finishedAt?.toISOString() ?? null };
    }
    return { kind: "disk" };
  }
  return { kind: "disk" };
}

/**
 * The decision for a host, from the database, with its active run (if any) as read for it: the
 * boot route needs both, from one read of the host's recent runs. Steps are read only for the
 * runs the decision may look at (those before the newest finished write that did not finish).
 */
export async function loadBootDecision(db: DbOrTx, hostId: string): Promise<{ next: NextBoot; active: DeploymentRow | undefined }> {
  const rows = await listHostDeployments(db, hostId, HISTORY);
  const active = rows.find((r) => isActiveDeployment(r.state));
  const lastDone = rows.findIndex((r) => r.action in DISK_STEP && r.state === "done");
  const undecided = (lastDone < 0 ? rows : rows.slice(0, lastDone)).filter((r) => r.action in DISK_STEP && !isActiveDeployment(r.state));
  const steps = await listSteps(db, undecided.map((r) => r.id));
  return { next: decideNextBoot(rows.map((d) => ({ deployment: d, steps: steps.filter((s) => s.deploymentId === d.id) }))), active };
}

export async function loadNextBoot(db: DbOrTx, hostId: string): Promise<NextBoot> {
  const { next } = await loadBootDecision(db, hostId);
  // As the boot answer decides (lib/boot/boot-service.ts): an active run's script first (a
  // diskless run's own, too), then the host's live diskless root, then the disk or a halt.
  if (next.kind === "run") return next;
  const root = await getLiveDisklessRoot(db, hostId);
  if (root) return { kind: "diskless", imageId: root.imageId, imageVersion: root.imageVersion, deploymentId: root.deploymentId, resetAt: root.resetAt?.toISOString() ?? null };
  return next;
}

/** GET side for the host page and the API: holders and administrators. */
export async function getNextBoot(db: Db, actor: Actor, hostId: string): Promise<NextBoot> {
  await assertHostHolder(db, actor, hostId);
  return loadNextBoot(db, hostId);
}

/**
 * "Boot the disk anyway": the holder (or an administrator) ends a halt, e.g. because they know
 * the write got far enough or want to inspect the disk. Refused when nothing is halted, so a
 * stale button cannot hide a later failure.
 */
export async function allowDiskBoot(db: Db, actor: Actor, hostId: string, now = new Date()): Promise<NextBoot> {
  await assertHostHolder(db, actor, hostId);
  return db.transaction(async (tx) => {
    const host = (await getHostRow(tx, hostId))!;
    // While a run is active the machine boots that run: there is no halt to end.
    const active = await getActiveDeployment(tx, hostId);
    if (active) throw new AppError("conflict", `${host.name} has an active run (deployment ${active.id}); it decides the next boot, not the disk.`);
    const next = await loadNextBoot(tx, hostId);
    if (next.kind !== "halt") throw new AppError("conflict", `${host.name} is not halted: its next network boot already boots its disk.`);
    await updateDeploymentRow(tx, next.deploymentId, { diskBootAllowedAt: now });
    await insertHostEvents(tx, [
      { hostId, kind: "disk_boot_allowed", at: now, actorUserId: actor.user?.id ?? null, message: `the disk may boot again although deployment ${next.deploymentId} did not finish writing it (${next.reason.slice(0, 200)})` },
    ]);
    await recordAudit(tx, actor, { action: "host.disk_boot_allowed", targetType: "host", targetId: hostId, summary: `allowed ${host.name} to boot its disk after deployment ${next.deploymentId} ${next.state}`, data: { deploymentId: next.deploymentId } });
    return loadNextBoot(tx, hostId);
  });
}
