// Deployment commands, what changes a deployment's state: create one (every refusal happens
// here, before anything is powered), cancel it, retry it. The release wipe at a lease's end and
// the network-boot mark are deployments too, created through the same createDeployment. Reads live in
// ./views.ts, resolving a holder's request into a plan in ./start-plan.ts.
import { archMismatch } from "../hosts/arch";
import { getActiveDeployment, insertDeployment } from "@/db/queries/boot";
import { insertSteps } from "@/db/queries/deployments";
import { getHostRow, insertHostEvents, listInterfaces } from "@/db/queries/hosts";
import { getImageRow, lockImageVersion } from "@/db/queries/images";
import { getTemplateByBuiltinKey } from "@/db/queries/templates";
import { isUniqueViolation } from "@/db/errors";
import type { DeploymentOptions, DeploymentRow, HostRow, TemplateRow } from "@/db/schema";
import type { Db, DbOrTx } from "../db";
import { getEnv } from "../env";
import { AppError } from "../errors";
import { isAdmin, SYSTEM, type Actor } from "../access/actor";
import { recordAudit } from "../audit/audit";
import { assertHostHolder } from "../access/hosts";
import { renderDeploymentTemplates, type DeploymentRendering } from "../templates/deployment-rendering";
import { hashSecret } from "../auth/secrets";
import { deploymentToken } from "./deployment-token";
import { isActiveDeployment } from "../hosts/state-machine";
import { canReadShared } from "../access/sharing";
import { getReadableTemplate, syncBuiltinTemplates } from "../templates/templates";
import type { DeploymentAction } from "../validation/deployments";
import { appendLog, emit, finishDeployment, queuePowerOff, runFollowups, startStep, waitForMachine, withDeployment, type Followup, type DeploymentContext } from "./engine";
import { canPowerOff, cannotRestartReason } from "../power/drivers";
import { ACTION_LABELS, stepsFor, stepTimeoutSeconds } from "./plan";
import { assertPostInstallRendered } from "./post-install";
import { recordDeployment } from "./records";
import { assertDeploymentAllowedAtEnd } from "./end-guard";
import { DEPLOYMENT_NOT_FOUND, getDeployment, getVisibleDeployment, type DeploymentView } from "./views";

/** How long a run's one-time token (boot files, agent, image download) stays valid. */
export const DEPLOYMENT_TOKEN_HOURS = 24;

/** The built-in system template each action boots (install uses the holder's choice). */
export const BUILTIN_OF_ACTION: Record<Exclude<DeploymentAction, "install">, string> = {
  deploy_image: "deploy-image",
  capture_disk: "capture-disk",
  wipe_disk: "wipe-disk",
  commission: "commission",
};

export type Pinned = { id: string; version: number; name: string };

export type DeploymentPlan = {
  host: HostRow;
  leaseId: string | null;
  userId: string | null;
  action: DeploymentAction;
  system: Pinned;
  unattended: Pinned | null;
  image: { id: string; version: number } | null;
  vars: Record<string, unknown>;
  options: DeploymentOptions;
  origin: "holder" | "release" | "system";
  retryOfId?: string | null;
  /** The deployment group the run belongs to ("deploy many at once", ./groups.ts). */
  groupId?: string | null;
  /** False for a mark: nobody powers the machine, the holder reboots it by hand. */
  power: boolean;
};

export async function builtinSystemTemplate(db: Db, key: string): Promise<TemplateRow> {
  let t = await getTemplateByBuiltinKey(db, key);
  if (!t) {
    // A fresh database that `npm start` has not seeded yet (tests, the CLI).
    await syncBuiltinTemplates(db);
    t = await getTemplateByBuiltinKey(db, key);
  }
  if (!t) throw new Error(`built-in template ${key} is missing`);
  return t;
}

/**
 * Renders the run's templates once, for the host, the way its boot will serve them (the text is
 * stored on the run, the token put in at serve time): a broken template is refused now, with
 * nothing started, and the boot route never renders a person's template again for this run.
 */
async function renderRun(db: DbOrTx, plan: DeploymentPlan, id: string): Promise<DeploymentRendering> {
  const ifaces = await listInterfaces(db, [plan.host.id]);
  const mac = ifaces.find((i) => i.isPxe)?.mac ?? ifaces[0]?.mac ?? null;
  const run = { id, action: plan.action, vars: plan.vars, imageId: plan.image?.id ?? null, imageVersion: plan.image?.version ?? null, postInstall: plan.options.postInstall ?? null };
  return renderDeploymentTemplates(db, { host: plan.host, mac, run, system: plan.system, unattended: plan.unattended }, (which, e) => {
    const pinned = (which === "system" ? plan.system : plan.unattended)!;
    const field = which === "unattended" ? "unattendedTemplateId" : plan.action === "install" ? "systemTemplateId" : "vars";
    throw AppError.field(field, `“${pinned.name}” v${pinned.version} does not render for ${plan.host.name}: ${e.message}. Nothing was started.`);
  });
}

/** cloud-init reads user-data as cloud-config only when its first line says so. */
function isCloudConfig(text: string | null): boolean {
  return text !== null && /^#cloud-config[ \t]*\r?\n/.test(text.replace(/^\uFEFF/, ""));
}

export function busyHostError(host: HostRow, d: DeploymentRow): AppError {
  return new AppError(
    "conflict",
    `${host.name} is busy: ${ACTION_LABELS[d.action].toLowerCase()} (deployment ${d.id}) is ${d.state}. Cancel it or wait for it to end; nothing was started.`,
    { deploymentId: d.id },
  );
}

/**
 * Creates a run with its steps and starts the first one (a power step enqueues its job after
 * commit). Refuses with 409 when another run of the host is active (the partial unique index
 * decides, so two racing starts cannot both win).
 */
export async function createDeployment(db: Db, actor: Actor, plan: DeploymentPlan, now = new Date()): Promise<DeploymentRow> {
  const followups: Followup[] = [];
  const overrides = getEnv().KILN_STEP_TIMEOUTS;
  const names = stepsFor(plan.action, { power: plan.power, powerOff: canPowerOff(plan.host.powerDriver), firstBoot: (plan.action === "deploy_image" && plan.unattended !== null) || plan.options.postInstall !== undefined, diskless: plan.options.diskless === true });
  // A release wipe on a machine Kiln cannot restart waits for someone to restart it (or shut it
  // down) instead of failing after the usual five minutes; its token outlives that wait.
  const bootWaitSeconds = plan.origin === "release" && plan.power && cannotRestartReason(plan.host.powerDriver) ? getEnv().KILN_RELEASE_BOOT_WAIT_HOURS * 3600 : null;
  const id = crypto.randomUUID();
  const rendering = await renderRun(db, plan, id);
  assertPostInstallRendered({ postInstall: plan.options.postInstall, unattended: plan.unattended, renderedUnattended: rendering.renderedUnattended });
  if (plan.action === "deploy_image" && plan.unattended && !isCloudConfig(rendering.renderedUnattended)) {
    throw AppError.field(
      "unattendedTemplateId",
      `“${plan.unattended.name}” is not cloud-init user-data (it does not start with #cloud-config): an image deploy hands its template to the installed system's cloud-init. Nothing was started.`,
    );
  }
  try {
    const d = await db.transaction(async (tx) => {
      if (plan.image) {
        // Locked, so a concurrent delete of this version waits and then sees our run.
        const v = await lockImageVersion(tx, { imageId: plan.image.id, version: plan.image.version });
        if (!v || v.state !== "ready") {
          const why = v?.state === "failed" && v.failureReason ? `failed: ${v.failureReason}` : v?.state;
          throw AppError.field("imageVersion", `Version ${plan.image.version} of that image ${v ? `is not ready (${why})` : "no longer exists"}; nothing was started.`);
        }
        // Every run that names a version comes through here (starts, re-runs, groups, reservations).
        const image = await getImageRow(tx, plan.image.id);
        const mismatch = image ? archMismatch(plan.host, image, v) : null;
        if (mismatch) throw AppError.field("imageVersion", mismatch);
      }
      const deployment = await insertDeployment(tx, {
        id,
        ...rendering,
        hostId: plan.host.id,
        leaseId: plan.leaseId,
        userId: plan.userId,
        action: plan.action,
        origin: plan.origin,
        systemTemplateId: plan.system.id,
        systemTemplateVersion: plan.system.version,
        unattendedTemplateId: plan.unattended?.id ?? null,
        unattendedTemplateVersion: plan.unattended?.version ?? null,
        imageId: plan.image?.id ?? null,
        imageVersion: plan.image?.version ?? null,
        vars: plan.vars,
        options: plan.options,
        retryOfId: plan.retryOfId ?? null,
        groupId: plan.groupId ?? null,
        tokenHash: hashSecret(deploymentToken(id)),
        tokenExpiresAt: new Date(now.getTime() + DEPLOYMENT_TOKEN_HOURS * 3600_000 + (bootWaitSeconds ?? 0) * 1000),
        createdAt: now,
      });
      // The run's experiment record, in its transaction: no recorded run exists without one.
      await recordDeployment(tx, deployment);
      const steps = await insertSteps(
        tx,
        names.map((name, position) => ({
          deploymentId: id,
          position,
          name,
          // A mark waits for a person to reboot the machine: as long as its token lives.
          timeoutSeconds: !plan.power && name === "boot" ? null : name === "boot" && bootWaitSeconds ? bootWaitSeconds : stepTimeoutSeconds(name, overrides),
        })),
      );
      const ctx: DeploymentContext = { db, tx, run: { deployment, steps }, at: now, followups };
      await emit(ctx, "created", { action: plan.action, origin: plan.origin, steps: steps.map((s) => ({ name: s.name, position: s.position })) });
      await insertHostEvents(tx, [
        {
          hostId: plan.host.id,
          kind: "deployment_started",
          at: now,
          actorUserId: actor.user?.id ?? null,
          leaseId: plan.leaseId,
          message: `${ACTION_LABELS[plan.action].toLowerCase()} (deployment ${id})${plan.image ? ` of image version ${plan.image.version}` : ""} with ${plan.system.name} v${plan.system.version}${plan.unattended ? ` + ${plan.unattended.name} v${plan.unattended.version}` : ""}`,
        },
      ]);
      // An administrator's commissioning, in the same transaction as its run (Kiln's own on arrival is not audited).
      if (plan.origin === "system" && actor.user) {
        await recordAudit(tx, actor, { action: "host.commission", targetType: "host", targetId: plan.host.id, summary: `commissioned ${plan.host.name} (deployment ${id})`, data: { deploymentId: id } });
      }
      if (plan.origin === "holder") {
        await recordAudit(tx, actor, {
          action: plan.power ? "deployment.start" : "host.mark",
          targetType: "host",
          targetId: plan.host.id,
          summary: plan.power ? `started ${ACTION_LABELS[plan.action].toLowerCase()} on ${plan.host.name} (deployment ${id})` : `marked for reinstall (deployment ${id})`,
          data: { deploymentId: id, action: plan.action },
        });
      }
      // The first step: power (the job does it), or, for a mark, waiting for the boot.
      if (plan.power) await startStep(ctx, steps[0]!);
      else await waitForMachine(ctx, steps[0]!);
      return ctx.run.deployment;
    });
    await runFollowups(followups);
    return d;
  } catch (e) {
    if (isUniqueViolation(e, "deployments_one_active_key")) {
      const active = await getActiveDeployment(db, plan.host.id);
      throw active ? busyHostError(plan.host, active) : new AppError("conflict", `${plan.host.name} is busy with another run; nothing was started.`);
    }
    throw e;
  }
}

/** The wipe at the end of a lease: the system's run, on a host in `releasing`. */
export async function startReleaseWipe(db: Db, host: HostRow, leaseId: string | null): Promise<DeploymentRow> {
  const t = await builtinSystemTemplate(db, BUILTIN_OF_ACTION.wipe_disk);
  return createDeployment(db, SYSTEM, {
    host,
    leaseId,
    userId: null,
    action: "wipe_disk",
    system: { id: t.id, version: t.latestVersion, name: t.name },
    unattended: null,
    image: null,
    vars: {},
    options: {},
    origin: "release",
    power: true,
  });
}

/** The holder's "retry": the same action with the same pinned versions, vars and options. */
export async function retryDeployment(db: Db, actor: Actor, deploymentId: string, clock: { now?: Date } = {}): Promise<DeploymentView> {
  const old = await getVisibleDeployment(db, actor, deploymentId);
  if (old.origin === "system") throw new AppError("conflict", "Kiln's own runs (commissioning) are not retried; an administrator commissions the host again.");
  if (old.origin !== "holder") throw new AppError("conflict", "A wipe at the end of a lease is restarted by the release itself, not retried.");
  if (isActiveDeployment(old.state) || old.state === "done") throw new AppError("conflict", `This run is ${old.state}; only a failed or cancelled run can be retried.`);
  const { leaseId } = await assertHostHolder(db, actor, old.hostId);
  const host = (await getHostRow(db, old.hostId))!;
  if (!leaseId) throw new AppError("conflict", `${host.name} is not leased any more; lease it to provision it again.`);
  await assertDeploymentAllowedAtEnd(db, leaseId, old.action);
  const name = async (id: string | null) => (id ? ((await getReadableTemplate(db, actor, id).catch(() => null))?.name ?? null) : null);
  if (!old.systemTemplateId || !old.systemTemplateVersion) throw new AppError("conflict", "The template this run used no longer exists; start a new run.");
  const sysName = await name(old.systemTemplateId);
  if (!sysName) throw new AppError("conflict", "You may no longer use the template this run used; start a new run.");
  const unName = old.unattendedTemplateId ? await name(old.unattendedTemplateId) : null;
  if (old.imageId) {
    const img = await getImageRow(db, old.imageId);
    if (!img || !(await canReadShared(db, actor, img))) throw new AppError("conflict", "The image this run wrote no longer exists, or you may not use it; start a new run.");
  }
  const plan: DeploymentPlan = {
    host,
    leaseId,
    userId: actor.user?.id ?? null,
    action: old.action,
    system: { id: old.systemTemplateId, version: old.systemTemplateVersion, name: sysName },
    unattended: old.unattendedTemplateId && old.unattendedTemplateVersion && unName ? { id: old.unattendedTemplateId, version: old.unattendedTemplateVersion, name: unName } : null,
    image: old.imageId && old.imageVersion ? { id: old.imageId, version: old.imageVersion } : null,
    vars: old.vars,
    options: old.options,
    origin: "holder",
    retryOfId: old.id,
    // A group's host retried stays in its group (./groups.ts counts its attempts there).
    groupId: old.groupId,
    power: old.options.power !== false,
  };
  const d = await createDeployment(db, actor, plan, clock.now);
  return getDeployment(db, actor, d.id);
}

/**
 * Cancel: the run ends as cancelled and the machine is switched off (in the background) where
 * its power driver can; otherwise (Wake-on-LAN, manual) the host's timeline says it was not.
 */
export async function cancelDeployment(db: Db, actor: Actor, deploymentId: string, clock: { now?: Date } = {}): Promise<DeploymentView> {
  const d = await getVisibleDeployment(db, actor, deploymentId);
  if (d.origin !== "holder" && !isAdmin(actor)) throw new AppError("not_found", DEPLOYMENT_NOT_FOUND);
  const outcome = await withDeployment(
    db,
    deploymentId,
    async (ctx) => {
      if (!isActiveDeployment(ctx.run.deployment.state)) return { endedBefore: ctx.run.deployment.state };
      await finishDeployment(ctx, "cancelled", `cancelled by ${actor.user?.email ?? "Kiln"}`);
      const host = await getHostRow(ctx.tx, ctx.run.deployment.hostId);
      const cannot = host ? cannotRestartReason(host.powerDriver) : null;
      if (!cannot) queuePowerOff(ctx, ctx.run.deployment.hostId, "run cancelled", ctx.run.deployment.id);
      else {
        // A power-off its driver cannot do would only fail in the background.
        const why = `not switched off after the cancel: Kiln cannot switch this machine off (${cannot}); switch it off by hand if it should not keep running`;
        await insertHostEvents(ctx.tx, [{ hostId: ctx.run.deployment.hostId, kind: "power", at: ctx.at, actorUserId: actor.user?.id ?? null, leaseId: ctx.run.deployment.leaseId, message: why }]);
        await appendLog(ctx, "kiln", [why]);
      }
      await recordAudit(ctx.tx, actor, { action: "deployment.cancel", targetType: "host", targetId: ctx.run.deployment.hostId, summary: `cancelled deployment ${deploymentId}` });
      return { endedBefore: null };
    },
    clock.now,
  );
  if (outcome?.endedBefore) throw new AppError("conflict", `This run has already ended (${outcome.endedBefore}).`);
  return getDeployment(db, actor, deploymentId);
}
