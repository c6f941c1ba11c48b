// The worker's side of runs: the power steps (with retries — switching a machine on again
// is safe), the power job, and the watchdog that fails a run whose current step is overdue.
// Handlers re-read the run and do nothing when it has moved on, so a job that runs twice
// (a retry after a crash, a duplicate enqueue) is harmless.
import { getDeploymentRow, listOverdueSteps } from "@/db/queries/deployments";
import { getHostRow, insertHostEvents } from "@/db/queries/hosts";
import type { Db } from "../db";
import { isActiveDeployment } from "../hosts/state-machine";
import { runPower } from "../power/power";
import { PowerError, type PowerAction } from "../power/types";
import type { DeploymentAction } from "../validation/deployments";
import { advance, appendLog, currentStep, failDeployment, scheduleDeadlineCheck, withDeployment } from "./engine";
import { bootTimeoutWithoutRestart, isStepName, STEPS, timeoutReason, type StepName } from "./plan";
import { cannotRestartReason } from "../power/drivers";

/** Attempts of a power action before the step fails; waits between them grow. */
export const POWER_ATTEMPTS = 3;
const BACKOFF_MS = [1_000, 4_000];

const POWER_OF_STEP: Partial<Record<StepName, { action: PowerAction; network: boolean; verb: string }>> = {
  power_on: { action: "cycle", network: true, verb: "power on" },
  power_off: { action: "off", network: false, verb: "power off" },
};

export type WorkerStepOptions = { backoffMs?: number[]; now?: () => Date };

/**
 * Runs the worker steps the run is at (power on/off), one after another, until it reaches a
 * step the machine drives or ends. Returns what it did, for the job log.
 */
export async function runWorkerSteps(db: Db, deploymentId: string, expected: DeploymentAction, opts: WorkerStepOptions = {}): Promise<{ ran: string[]; state: string | null }> {
  const now = opts.now ?? (() => new Date());
  const ran: string[] = [];
  for (let guard = 0; guard < 5; guard++) {
    const claim = await withDeployment(
      db,
      deploymentId,
      async (ctx) => {
        const d = ctx.run.deployment;
        if (d.action !== expected || !isActiveDeployment(d.state)) return null;
        const step = currentStep(ctx.run.steps);
        if (!step || step.state !== "running" || !isStepName(step.name) || STEPS[step.name].driver !== "worker") return null;
        return { step: step.name as StepName, hostId: d.hostId };
      },
      now(),
    );
    if (!claim) break;
    const power = POWER_OF_STEP[claim.step]!;
    const host = await getHostRow(db, claim.hostId);
    if (!host) break;
    const lines: string[] = [];
    let error: string | null = null;
    let message = "";
    for (let attempt = 1; attempt <= POWER_ATTEMPTS; attempt++) {
      try {
        const result = await runPower(db, host, power.action, { log: (l) => lines.push(l), bootFromNetwork: power.network });
        message = result.message;
        error = null;
        break;
      } catch (e) {
        error = e instanceof PowerError ? e.message : `unexpected error: ${(e as Error).message}`;
        lines.push(`${power.verb} attempt ${attempt} of ${POWER_ATTEMPTS} failed: ${error}`);
        const wait = (opts.backoffMs ?? BACKOFF_MS)[attempt - 1];
        if (attempt < POWER_ATTEMPTS && wait !== undefined) await new Promise((r) => setTimeout(r, wait));
      }
    }
    await withDeployment(
      db,
      deploymentId,
      async (ctx) => {
        await appendLog(ctx, "power", lines.length ? lines : [`${power.verb} (${host.powerDriver}): ${message}`]);
        if (error) await failDeployment(ctx, `could not ${power.verb} the machine (${host.powerDriver}): ${error}`, claim.step);
        else await advance(ctx, claim.step, message);
      },
      now(),
    );
    ran.push(`${claim.step}${error ? " failed" : ""}`);
    if (error) break;
  }
  const d = await getDeploymentRow(db, deploymentId);
  return { ran, state: d?.state ?? null };
}

/** The power job: a power action on a host, logged to a run when it belongs to one. */
export async function runPowerJob(db: Db, data: { hostId: string; action: PowerAction; deploymentId?: string; reason: string }): Promise<{ ok: boolean; message: string }> {
  const host = await getHostRow(db, data.hostId);
  if (!host) return { ok: false, message: "host gone" };
  const lines: string[] = [];
  let ok = true;
  let message: string;
  try {
    message = (await runPower(db, host, data.action, { log: (l) => lines.push(l) })).message;
  } catch (e) {
    if (!(e instanceof PowerError)) throw e;
    ok = false;
    message = e.message;
  }
  if (data.action !== "status") {
    await insertHostEvents(db, [{ hostId: host.id, kind: "power", message: `power ${data.action} (${host.powerDriver})${data.reason ? ` — ${data.reason}` : ""}: ${ok ? message : `failed: ${message}`}` }]);
  }
  if (data.deploymentId) {
    // The run may have ended (a cancel powers off after it): its log still gets the lines.
    await withDeployment(db, data.deploymentId, (ctx) => appendLog(ctx, "power", [...lines, `power ${data.action}${data.reason ? ` (${data.reason})` : ""}: ${ok ? message : `failed: ${message}`}`]));
  }
  return { ok, message };
}

/**
 * Fails the runs whose current step is past its deadline, with that step's reason. A step
 * whose deadline moved (progress arrived) gets a new check at the new deadline instead.
 */
export async function checkDeadlines(db: Db, opts: { deploymentId?: string; now?: Date } = {}): Promise<{ failed: string[] }> {
  const now = opts.now ?? new Date();
  const failed: string[] = [];
  const overdue = await listOverdueSteps(db, { now, deploymentId: opts.deploymentId });
  for (const { step } of overdue) {
    await withDeployment(
      db,
      step.deploymentId,
      async (ctx) => {
        const current = ctx.run.steps.find((s) => s.id === step.id);
        if (!current || current.state !== "running" || !current.timeoutAt || !isStepName(current.name)) return;
        if (current.timeoutAt.getTime() > now.getTime()) return;
        await appendLog(ctx, "kiln", [`step “${STEPS[current.name].label}” timed out`]);
        const seconds = current.timeoutSeconds ?? STEPS[current.name].timeoutSeconds;
        // A machine Kiln cannot restart may simply still be running its OS: say so, not "check PXE/DHCP".
        const host = current.name === "boot" ? await getHostRow(ctx.tx, ctx.run.deployment.hostId) : undefined;
        const cannot = host ? cannotRestartReason(host.powerDriver) : null;
        const reason = cannot ? bootTimeoutWithoutRestart(seconds, cannot, ctx.run.deployment.origin === "release") : timeoutReason(current.name, seconds);
        if (await failDeployment(ctx, reason, current.name)) failed.push(step.deploymentId);
      },
      now,
    );
  }
  if (opts.deploymentId && !failed.includes(opts.deploymentId)) {
    // Not overdue (yet): if the run still waits on a step with a deadline, check again then.
    await withDeployment(
      db,
      opts.deploymentId,
      async (ctx) => {
        const step = currentStep(ctx.run.steps);
        if (isActiveDeployment(ctx.run.deployment.state) && step?.state === "running" && step.timeoutAt && step.timeoutAt.getTime() > now.getTime()) scheduleDeadlineCheck(ctx, step.timeoutAt);
      },
      now,
    );
  }
  return { failed };
}
