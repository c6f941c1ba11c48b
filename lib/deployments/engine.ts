// The life of a provisioning run, in one place: steps start, finish, time out and fail
// here, whether the news comes from the worker (power), from the machine (boot request,
// agent reports) or from the watchdog. Every change happens under the run's row lock and
// writes an event to the host's feed in the same transaction; jobs to enqueue and mails to
// send are collected and done after commit, so a rolled-back change starts nothing.
import { getDeploymentRow, insertDeploymentEvent, insertLogs, listSteps, updateStepRow } from "@/db/queries/deployments";
import { updateDeploymentRow } from "@/db/queries/boot";
import { getHostRow, insertHostEvents } from "@/db/queries/hosts";
import { deleteImageUploadRow, getImageUploadOfVersion, updateImageVersionFrom } from "@/db/queries/images";
import { getUserById } from "@/db/queries/users";
import type { DeploymentRow, DeploymentStepRow } from "@/db/schema";
import type { Db, DbOrTx } from "../db";
import { getEnv } from "../env";
import { getImageStorage } from "../images/storage";
import { transitionHostStates } from "../hosts/transition";
import { canFinishDeployment, isActiveDeployment } from "../hosts/state-machine";
import { enqueueJob, type EnqueueOptions } from "../jobs/enqueue";
import { getLogger } from "../log";
import { sendMail } from "../mail/send";
import { DEPLOYMENT_WATCHDOG_JOB, JOB_OF_ACTION, POWER_JOB, RETRY_GROUP_HOST_JOB } from "./jobs";
import { ACTION_LABELS, isStepName, STEPS, type StepName } from "./plan";
import { releaseWaitMessage } from "../hosts/release-wait";
import { cannotRestartReason } from "../power/drivers";
import { recordDeploymentOutcome } from "./records";

export type DeploymentWithSteps = { deployment: DeploymentRow; steps: DeploymentStepRow[] };

/** Work to do once the transaction that decided it has committed. */
export type Followup = () => Promise<unknown>;

/** `db` is the root handle (for followups after commit); `tx` the transaction holding the run's lock. */
export type DeploymentContext = { db: Db; tx: DbOrTx; run: DeploymentWithSteps; at: Date; followups: Followup[] };

const MAX_LINE = 4000;

/** The first step that is not finished: the one the run is at. */
export function currentStep(steps: DeploymentStepRow[]): DeploymentStepRow | undefined {
  return steps.find((s) => s.state === "pending" || s.state === "running");
}

export function stepLabel(name: string): string {
  return isStepName(name) ? STEPS[name].label : name;
}

async function loadRun(tx: DbOrTx, deploymentId: string): Promise<DeploymentWithSteps | undefined> {
  const deployment = await getDeploymentRow(tx, deploymentId, { lock: true });
  if (!deployment) return undefined;
  return { deployment, steps: await listSteps(tx, [deploymentId]) };
}

/**
 * Runs `fn` on the locked run, then the followups it queued. Returns undefined when the run
 * does not exist. Followup failures are logged, not thrown: the watchdog catches what a lost
 * enqueue leaves behind.
 */
export async function withDeployment<T>(db: Db, deploymentId: string, fn: (ctx: DeploymentContext) => Promise<T>, at = new Date()): Promise<T | undefined> {
  const followups: Followup[] = [];
  const result = await db.transaction(async (tx) => {
    const run = await loadRun(tx, deploymentId);
    if (!run) return undefined;
    return fn({ db, tx, run, at, followups });
  });
  await runFollowups(followups);
  return result;
}

export async function runFollowups(followups: Followup[]): Promise<void> {
  for (const f of followups) {
    await f().catch((err) => getLogger("deployments").error({ err: err instanceof Error ? err.message : err }, "followup after a deployment change failed"));
  }
}

export function enqueueLater(ctx: { followups: Followup[] }, job: Parameters<typeof enqueueJob>[0], data: object, options?: EnqueueOptions): void {
  ctx.followups.push(() => enqueueJob(job, data as never, options));
}

export async function emit(ctx: DeploymentContext, kind: string, data: Record<string, unknown>): Promise<void> {
  const d = ctx.run.deployment;
  await insertDeploymentEvent(ctx.tx, { hostId: d.hostId, deploymentId: d.id, kind, data: { deploymentId: d.id, ...data }, at: ctx.at });
}

/** Appends log lines to the run (and to the live feed). */
export async function appendLog(ctx: DeploymentContext, source: "kiln" | "power" | "agent", lines: string[]): Promise<void> {
  const clean = lines.map((l) => l.replace(/\r/g, "").slice(0, MAX_LINE)).filter((l) => l.length > 0);
  if (clean.length === 0) return;
  const rows = await insertLogs(ctx.tx, clean.map((line) => ({ deploymentId: ctx.run.deployment.id, source, line, at: ctx.at })));
  await emit(ctx, "log", { lines: rows.map((r) => ({ id: r.id, at: r.at.toISOString(), source: r.source, line: r.line })) });
}

function stepEvent(s: DeploymentStepRow) {
  return {
    stepId: s.id,
    position: s.position,
    name: s.name,
    label: stepLabel(s.name),
    state: s.state,
    startedAt: s.startedAt?.toISOString() ?? null,
    finishedAt: s.finishedAt?.toISOString() ?? null,
    timeoutAt: s.timeoutAt?.toISOString() ?? null,
    message: s.message,
    failureReason: s.failureReason,
  };
}

async function setStep(ctx: DeploymentContext, step: DeploymentStepRow, values: Partial<DeploymentStepRow>): Promise<DeploymentStepRow> {
  const row = (await updateStepRow(ctx.tx, step.id, values))!;
  ctx.run.steps = ctx.run.steps.map((s) => (s.id === row.id ? row : s));
  await emit(ctx, "step", stepEvent(row));
  return row;
}

async function setRun(ctx: DeploymentContext, values: Partial<DeploymentRow>): Promise<void> {
  ctx.run.deployment = (await updateDeploymentRow(ctx.tx, ctx.run.deployment.id, values))!;
}

/** Starts a step: its deadline runs from now; a worker step gets its job, a deadline its check. */
export async function startStep(ctx: DeploymentContext, step: DeploymentStepRow, message?: string): Promise<void> {
  const timeoutAt = step.timeoutSeconds ? new Date(ctx.at.getTime() + step.timeoutSeconds * 1000) : null;
  if (ctx.run.deployment.state === "pending") {
    await setRun(ctx, { state: "running", startedAt: ctx.run.deployment.startedAt ?? ctx.at });
    await emit(ctx, "state", { state: "running" });
  }
  const name = step.name as StepName;
  if (name === "boot" && message === undefined) message = (await bootWaitMessage(ctx)) ?? undefined;
  await setStep(ctx, step, { state: "running", startedAt: ctx.at, timeoutAt, attempts: step.attempts + 1, message: message ?? null });
  if (isStepName(name) && STEPS[name].driver === "worker") {
    enqueueLater(ctx, JOB_OF_ACTION[ctx.run.deployment.action], { deploymentId: ctx.run.deployment.id });
  }
  if (timeoutAt) scheduleDeadlineCheck(ctx, timeoutAt);
}

/**
 * What the boot step waits for when Kiln cannot restart the machine (Wake-on-LAN, manual): its
 * power-on only wakes a machine that is off, so a running one needs a person. Null otherwise.
 */
async function bootWaitMessage(ctx: DeploymentContext): Promise<string | null> {
  const host = await getHostRow(ctx.tx, ctx.run.deployment.hostId);
  if (!host) return null;
  if (ctx.run.deployment.origin === "release") return releaseWaitMessage(host.powerDriver);
  const why = cannotRestartReason(host.powerDriver);
  return why ? `waiting for the machine to network-boot — Kiln cannot restart it (${why}): if it is running, restart it now` : null;
}

/** A mark's first step: waiting for a person to reboot the machine, without a deadline. */
export async function waitForMachine(ctx: DeploymentContext, step: DeploymentStepRow): Promise<void> {
  await setStep(ctx, step, { state: "running", startedAt: ctx.at, message: "waiting for the machine to network-boot (reboot it)" });
}

/** A delayed watchdog run at the deadline, so a silent machine fails on time without polling. */
export function scheduleDeadlineCheck(ctx: { followups: Followup[]; run: DeploymentWithSteps }, at: Date): void {
  enqueueLater(ctx, DEPLOYMENT_WATCHDOG_JOB, { deploymentId: ctx.run.deployment.id }, { startAfter: new Date(at.getTime() + 500) });
}

/**
 * The machine (or the worker) got as far as finishing `through`: every step up to it is
 * done, and the next one starts, or the run is done. Idempotent: news of a step already
 * passed changes nothing, so a repeated report or a late power job is harmless.
 */
export async function advance(ctx: DeploymentContext, through: StepName, message?: string): Promise<boolean> {
  if (!isActiveDeployment(ctx.run.deployment.state)) return false;
  const idx = ctx.run.steps.findIndex((s) => s.name === through);
  if (idx < 0) return false;
  let changed = false;
  for (const s of ctx.run.steps.slice(0, idx + 1)) {
    if (s.state === "pending" || s.state === "running") {
      await setStep(ctx, s, { state: "done", startedAt: s.startedAt ?? ctx.at, finishedAt: ctx.at, message: s.name === through && message ? message : s.message });
      changed = true;
    }
  }
  if (!changed) return false;
  const next = ctx.run.steps[idx + 1];
  if (next && next.state === "pending") await startStep(ctx, next);
  else if (!next) await finishDeployment(ctx, "done");
  return true;
}

/** Moves the current step's deadline forward (progress keeps a long write alive). */
export async function extendDeadline(ctx: DeploymentContext, step: DeploymentStepRow): Promise<void> {
  if (!step.timeoutSeconds) return;
  const timeoutAt = new Date(ctx.at.getTime() + step.timeoutSeconds * 1000);
  const row = (await updateStepRow(ctx.tx, step.id, { timeoutAt }))!;
  ctx.run.steps = ctx.run.steps.map((s) => (s.id === row.id ? row : s));
}

/** Fails the run at its current step (or the named one) with a reason a person can act on. */
export async function failDeployment(ctx: DeploymentContext, reason: string, stepName?: string): Promise<boolean> {
  if (!isActiveDeployment(ctx.run.deployment.state)) return false;
  const step = (stepName ? ctx.run.steps.find((s) => s.name === stepName && (s.state === "pending" || s.state === "running")) : undefined) ?? currentStep(ctx.run.steps);
  if (step) await setStep(ctx, step, { state: "failed", startedAt: step.startedAt ?? ctx.at, finishedAt: ctx.at, failureReason: reason.slice(0, 2000) });
  await finishDeployment(ctx, "failed", step ? `${stepLabel(step.name)}: ${reason}` : reason);
  return true;
}

/** Ends the run: the rest of the steps are skipped; a release wipe decides the host's fate. */
export async function finishDeployment(ctx: DeploymentContext, outcome: "done" | "failed" | "cancelled", reason?: string): Promise<void> {
  const d = ctx.run.deployment;
  if (!canFinishDeployment(d.state, outcome)) return;
  for (const s of ctx.run.steps) {
    if (s.state === "pending") await setStep(ctx, s, { state: "skipped" });
    else if (s.state === "running") await setStep(ctx, s, { state: "cancelled", finishedAt: ctx.at });
  }
  await setRun(ctx, { state: outcome, finishedAt: ctx.at, failureReason: outcome === "done" ? null : (reason ?? d.failureReason ?? null)?.slice(0, 2000) ?? null });
  await recordDeploymentOutcome(ctx.tx, ctx.run.deployment);
  await emit(ctx, "state", { state: outcome, failureReason: ctx.run.deployment.failureReason });
  const what = `${ACTION_LABELS[d.action].toLowerCase()} (deployment ${d.id})`;
  await insertHostEvents(ctx.tx, [
    {
      hostId: d.hostId,
      kind: `deployment_${outcome}`,
      at: ctx.at,
      leaseId: d.leaseId,
      message: outcome === "done" ? `${what} done` : `${what} ${outcome}${reason ? `: ${reason.slice(0, 300)}` : ""}`,
    },
  ]);
  if (d.origin === "release") await settleRelease(ctx, outcome, reason);
  if (d.action === "capture_disk" && outcome !== "done") await abandonCapture(ctx, reason ?? outcome);
  if (d.options.notify && d.userId && outcome !== "cancelled") queueOutcomeMail(ctx, outcome, reason);
  // A group's failed host is retried alone (./groups.ts decides whether it has runs left); a cancel is the holder's word.
  if (outcome === "failed" && d.groupId) enqueueLater(ctx, RETRY_GROUP_HOST_JOB, { deploymentId: d.id }, { singletonKey: d.id });
}

/**
 * A version that was being captured when its run ended without it (failed, cancelled, timed
 * out) keeps its number and record, as failed: version numbers are never reused. Its bytes,
 * received or still arriving, are removed after commit; the agent's next PATCH gets 404.
 */
async function abandonCapture(ctx: DeploymentContext, reason: string): Promise<void> {
  const { imageId, imageVersion: version } = ctx.run.deployment;
  if (!imageId || !version) return;
  const gone = await updateImageVersionFrom(ctx.tx, { imageId, version, from: ["uploading", "verifying"] }, { state: "failed", failureReason: reason.slice(0, 500), storageKey: null });
  if (!gone) return;
  const upload = await getImageUploadOfVersion(ctx.tx, { imageId, version });
  if (!upload) return;
  await deleteImageUploadRow(ctx.tx, upload.id);
  ctx.followups.push(() => getImageStorage().removeUpload(upload.id));
}

/**
 * Only a wiped host goes back to its pool. A failed wipe may leave the last holder's data on
 * the disk, so an administrator decides (maintenance); a cancelled one stays releasing and
 * the finish-releases job starts a new wipe.
 */
async function settleRelease(ctx: DeploymentContext, outcome: "done" | "failed" | "cancelled", reason?: string): Promise<void> {
  const host = await getHostRow(ctx.tx, ctx.run.deployment.hostId);
  if (!host || host.state !== "releasing" || outcome === "cancelled") return;
  await transitionHostStates(ctx.tx, {
    hostIds: [host.id],
    to: outcome === "done" ? "available" : "maintenance",
    actorUserId: null,
    leaseId: ctx.run.deployment.leaseId,
    at: ctx.at,
    message: outcome === "done" ? "wiped and powered off; back in its pool" : `the wipe at the end of the lease failed (${reason ?? "no reason"}); the disk may still hold the last holder's data`,
  });
}

function queueOutcomeMail(ctx: DeploymentContext, outcome: "done" | "failed", reason?: string): void {
  const d = ctx.run.deployment;
  const app = ctx.db;
  ctx.followups.push(async () => {
    const user = await getUserById(app, d.userId!);
    const host = await getHostRow(app, d.hostId);
    if (!user || !host) return;
    const link = `${getEnv().baseUrl}/hosts/${host.id}`;
    await sendMail(app, {
      to: user.email,
      subject: outcome === "done" ? `${host.name}: ${ACTION_LABELS[d.action].toLowerCase()} done` : `${host.name}: ${ACTION_LABELS[d.action].toLowerCase()} failed`,
      text:
        outcome === "done"
          ? `${ACTION_LABELS[d.action]} on ${host.name} finished.\n\nThe timeline and log: ${link}\n`
          : `${ACTION_LABELS[d.action]} on ${host.name} failed:\n\n  ${reason ?? "no reason given"}\n\nThe timeline and log, and a Retry button: ${link}\n`,
    });
  });
}

/** Powers a host off in the background (cancel, release without a wipe). */
export function queuePowerOff(ctx: { followups: Followup[] }, hostId: string, reason: string, deploymentId?: string): void {
  enqueueLater(ctx, POWER_JOB, { hostId, action: "off", reason, ...(deploymentId ? { deploymentId } : {}) });
}
