// Provisioning runs as the holder sees them: start one (every refusal happens here, before
// anything is powered), follow it, cancel it, retry it. The release wipe at a lease's end and
// the network-boot mark are runs too, created through the same createRun.
import { archMismatch, assertVersionFitsHost } from "../hosts/arch";
import { getDeploymentConsole } from "@/db/queries/consoles";
import { getActiveDeployment, getBootSettingsRow, insertDeployment } from "@/db/queries/boot";
import { countLogs, getDeploymentRow, getLatestRunsOfLeases, insertSteps, lastEventId, listDeploymentRows, listLogs, listSteps } from "@/db/queries/deployments";
import { getHostRow, insertHostEvents, listInterfaces } from "@/db/queries/hosts";
import { getImageRow, lockImageVersion } from "@/db/queries/images";
import { getTemplateByBuiltinKey, getTemplateVersion } from "@/db/queries/templates";
import { isUniqueViolation } from "@/db/errors";
import type { DeploymentOptions, DeploymentRow, DeploymentStepRow, HostRow, TemplateRow } from "@/db/schema";
import type { Db, DbOrTx } from "../db";
import { getEnv } from "../env";
import { AppError } from "../errors";
import { isAdmin, isOwnerOrAdmin, SYSTEM, type Actor } from "../access/actor";
import { recordAudit } from "../audit/audit";
import { assertHostHolder } from "../access/hosts";
import { renderRunTemplates, type RunRendering } from "../templates/run-rendering";
import { hashSecret } from "../auth/secrets";
import { deploymentToken } from "./deployment-token";
import { provisioningStateOf, isActiveRun } from "../hosts/state-machine";
import { canReadShared } from "../access/sharing";
import { getReadableTemplate, syncBuiltinTemplates } from "../templates/templates";
import { paginated } from "../validation/common";
import { deploymentGetQuerySchema, deploymentListQuerySchema, deploymentStartSchema, type DeploymentAction } from "../validation/deployments";
import { parseInput } from "../validation/parse";
import { appendLog, emit, finishRun, queuePowerOff, runFollowups, startStep, stepLabel, waitForMachine, withRun, type Followup, type RunContext } from "./engine";
import { canPowerOff, cannotRestartReason } from "../power/drivers";
import { ACTION_LABELS, stepsFor, stepTimeoutSeconds } from "./plan";
import { assertPostInstallRendered, choosePostInstall } from "./post-install";
import { recordRun } from "./records";
import { getRunRecordIdOfDeployment } from "@/db/queries/run-records";
import { assertRunAllowedAtEnd } from "./end-guard";

/** How long a run's one-time token (boot files, agent, image download) stays valid. */
export const DEPLOYMENT_TOKEN_HOURS = 24;
const LOG_LINES = 500;
const NOT_FOUND = "That deployment does not exist.";

/** The built-in system template each action boots (install uses the holder's choice). */
const BUILTIN_OF_ACTION: Record<Exclude<DeploymentAction, "install">, string> = {
  deploy_image: "deploy-image",
  capture_disk: "capture-disk",
  wipe_disk: "wipe-disk",
  commission: "commission",
};

type Pinned = { id: string; version: number; name: string };

export type RunPlan = {
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
async function renderRun(db: DbOrTx, plan: RunPlan, id: string): Promise<RunRendering> {
  const ifaces = await listInterfaces(db, [plan.host.id]);
  const mac = ifaces.find((i) => i.isPxe)?.mac ?? ifaces[0]?.mac ?? null;
  const run = { id, action: plan.action, vars: plan.vars, imageId: plan.image?.id ?? null, imageVersion: plan.image?.version ?? null, postInstall: plan.options.postInstall ?? null };
  return renderRunTemplates(db, { host: plan.host, mac, run, system: plan.system, unattended: plan.unattended }, (which, e) => {
    const pinned = (which === "system" ? plan.system : plan.unattended)!;
    const field = which === "unattended" ? "unattendedTemplateId" : plan.action === "install" ? "systemTemplateId" : "vars";
    throw AppError.field(field, `“${pinned.name}” v${pinned.version} does not render for ${plan.host.name}: ${e.message}. Nothing was started.`);
  });
}

/** cloud-init reads user-data as cloud-config only when its first line says so. */
function isCloudConfig(text: string | null): boolean {
  return text !== null && /^#cloud-config[ \t]*\r?\n/.test(text.replace(/^\uFEFF/, ""));
}

function busy(host: HostRow, d: DeploymentRow): AppError {
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
export async function createRun(db: Db, actor: Actor, plan: RunPlan, now = new Date()): Promise<DeploymentRow> {
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
      await recordRun(tx, deployment);
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
      const ctx: RunContext = { db, tx, run: { deployment, steps }, at: now, followups };
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
      throw active ? busy(plan.host, active) : new AppError("conflict", `${plan.host.name} is busy with another run; nothing was started.`);
    }
    throw e;
  }
}

/** The unattended template a run names, pinned at its latest version; refused beside its field otherwise. */
async function pinUnattended(db: Db, actor: Actor, id: string, choose: string, version?: number): Promise<Pinned> {
  const un = await getReadableTemplate(db, actor, id).catch(() => null);
  if (!un) throw AppError.field("unattendedTemplateId", "That template does not exist, or you may not use it.");
  if (un.kind !== "unattended") throw AppError.field("unattendedTemplateId", `“${un.name}” is a system template; choose ${choose}.`);
  return { id: un.id, version: await pinnedVersion(db, un, version, "unattendedTemplateVersion"), name: un.name };
}

/** The version a run asks for (a re-run names the one it repeats), else the latest; refused when it does not exist. */
async function pinnedVersion(db: Db, t: TemplateRow, version: number | undefined, field: string): Promise<number> {
  if (version === undefined || version === t.latestVersion) return t.latestVersion;
  if (!(await getTemplateVersion(db, { templateId: t.id, version }))) throw AppError.field(field, `“${t.name}” has no version ${version}.`);
  return version;
}

/** Resolves what the holder asked for into pinned versions, refusing anything that would fail. */
export async function planFromInput(db: Db, actor: Actor, hostId: string, input: unknown): Promise<RunPlan> {
  const data = parseInput(deploymentStartSchema, input);
  const { leaseId } = await assertHostHolder(db, actor, hostId);
  const host = (await getHostRow(db, hostId))!;
  if (!leaseId) throw new AppError("conflict", `${host.name} is not leased; only a leased host can be provisioned (lease it first).`);
  // In a lease's grace period only a capture of the disk may run (lib/leases/staged-end.ts).
  await assertRunAllowedAtEnd(db, leaseId, data.action);
  const active = await getActiveDeployment(db, hostId);
  if (active) throw busy(host, active);
  const settings = await getBootSettingsRow(db, hostId);
  const mine = settings && settings.leaseId === leaseId ? settings : null;
  const vars = (data.vars as Record<string, unknown> | undefined) ?? mine?.vars ?? {};

  let system: Pinned;
  let unattended: Pinned | null = null;
  if (data.action === "install") {
    const sysId = data.systemTemplateId ?? mine?.systemTemplateId;
    if (!sysId) throw AppError.field("systemTemplateId", "Choose the system (boot) template to install with.");
    const sys = await getReadableTemplate(db, actor, sysId).catch(() => null);
    if (!sys) throw AppError.field("systemTemplateId", "That template does not exist, or you may not use it.");
    if (sys.kind !== "system") throw AppError.field("systemTemplateId", `“${sys.name}” is an unattended template; choose a system (iPXE) one.`);
    system = { id: sys.id, version: await pinnedVersion(db, sys, data.systemTemplateVersion, "systemTemplateVersion"), name: sys.name };
    const unId = data.unattendedTemplateId !== undefined ? data.unattendedTemplateId : (mine?.unattendedTemplateId ?? null);
    if (unId) unattended = await pinUnattended(db, actor, unId, "an unattended one", data.unattendedTemplateVersion);
  } else {
    const t = await builtinSystemTemplate(db, data.action === "deploy_image" && data.diskless ? "boot-diskless" : BUILTIN_OF_ACTION[data.action]);
    system = { id: t.id, version: t.latestVersion, name: t.name };
    // An image with cloud-init: the written system fetches this template as its NoCloud
    // user-data on first boot (docs/cloud-init.md). Only when asked for: the host's boot
    // settings name the templates of installs, not of image deploys.
    if (data.action === "deploy_image" && data.unattendedTemplateId) unattended = await pinUnattended(db, actor, data.unattendedTemplateId, "an unattended (cloud-init) one", data.unattendedTemplateVersion);
  }

  let image: RunPlan["image"] = null;
  if (data.imageId) {
    const row = await getImageRow(db, data.imageId);
    if (!row || !(await canReadShared(db, actor, row))) throw AppError.field("imageId", "That image does not exist, or you may not use it.");
    if (data.action === "capture_disk") {
      if (!isOwnerOrAdmin(actor, row.ownerUserId)) throw AppError.field("imageId", `Only the owner of “${row.name}” can add versions to it; capture into an image of your own.`);
      // The version number is handed out when the agent's upload arrives (./capture.ts).
    } else {
      const version = data.imageVersion === "latest" ? row.latestVersion : data.imageVersion;
      if (version === null) throw AppError.field("imageId", `Image “${row.name}” has no ready version yet.`);
      await assertVersionFitsHost(db, host, { imageId: row.id, version });
      image = { id: row.id, version };
    }
    if (data.action === "capture_disk") image = null;
  }

  const options: DeploymentOptions = {
    ...(data.disk ? { disk: data.disk } : {}),
    ...(data.wipeFirst ? { wipeFirst: true } : {}),
    ...(data.notify ? { notify: true } : {}),
    ...(data.action === "wipe_disk" ? { wipeMode: data.wipeMode } : {}),
    ...(data.action === "deploy_image" && data.diskless ? { diskless: true } : {}),
  };
  if (data.action === "capture_disk") options.captureImageId = data.imageId!;
  // The unattended template version's default applies when the request names none (null: none at all).
  const templateDefault = unattended ? ((await getTemplateVersion(db, { templateId: unattended.id, version: unattended.version }))?.postInstall ?? null) : null;
  const postInstall = choosePostInstall({ action: data.action, requested: data.postInstall, templateDefault });
  if (postInstall) options.postInstall = postInstall;
  const plan: RunPlan = { host, leaseId, userId: actor.user?.id ?? null, action: data.action, system, unattended, image, vars, options, origin: "holder", power: true };
  return plan;
}

/** The wipe at the end of a lease: the system's run, on a host in `releasing`. */
export async function startReleaseWipe(db: Db, host: HostRow, leaseId: string | null): Promise<DeploymentRow> {
  const t = await builtinSystemTemplate(db, BUILTIN_OF_ACTION.wipe_disk);
  return createRun(db, SYSTEM, {
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
  const old = await getVisibleRun(db, actor, deploymentId);
  if (old.origin === "system") throw new AppError("conflict", "Kiln's own runs (commissioning) are not retried; an administrator commissions the host again.");
  if (old.origin !== "holder") throw new AppError("conflict", "A wipe at the end of a lease is restarted by the release itself, not retried.");
  if (isActiveRun(old.state) || old.state === "done") throw new AppError("conflict", `This run is ${old.state}; only a failed or cancelled run can be retried.`);
  const { leaseId } = await assertHostHolder(db, actor, old.hostId);
  const host = (await getHostRow(db, old.hostId))!;
  if (!leaseId) throw new AppError("conflict", `${host.name} is not leased any more; lease it to provision it again.`);
  await assertRunAllowedAtEnd(db, leaseId, old.action);
  const name = async (id: string | null) => (id ? ((await getReadableTemplate(db, actor, id).catch(() => null))?.name ?? null) : null);
  if (!old.systemTemplateId || !old.systemTemplateVersion) throw new AppError("conflict", "The template this run used no longer exists; start a new run.");
  const sysName = await name(old.systemTemplateId);
  if (!sysName) throw new AppError("conflict", "You may no longer use the template this run used; start a new run.");
  const unName = old.unattendedTemplateId ? await name(old.unattendedTemplateId) : null;
  if (old.imageId) {
    const img = await getImageRow(db, old.imageId);
    if (!img || !(await canReadShared(db, actor, img))) throw new AppError("conflict", "The image this run wrote no longer exists, or you may not use it; start a new run.");
  }
  const plan: RunPlan = {
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
  const d = await createRun(db, actor, plan, clock.now);
  return getDeployment(db, actor, d.id);
}

/**
 * Cancel: the run ends as cancelled and the machine is switched off (in the background) where
 * its power driver can; otherwise (Wake-on-LAN, manual) the host's timeline says it was not.
 */
export async function cancelDeployment(db: Db, actor: Actor, deploymentId: string, clock: { now?: Date } = {}): Promise<DeploymentView> {
  const d = await getVisibleRun(db, actor, deploymentId);
  if (d.origin !== "holder" && !isAdmin(actor)) throw new AppError("not_found", NOT_FOUND);
  const outcome = await withRun(
    db,
    deploymentId,
    async (ctx) => {
      if (!isActiveRun(ctx.run.deployment.state)) return { endedBefore: ctx.run.deployment.state };
      await finishRun(ctx, "cancelled", `cancelled by ${actor.user?.email ?? "Kiln"}`);
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

/**
 * A run the actor may see: admins any; others the runs of hosts they hold now, and only
 * while they hold them (like the host itself). Anyone else gets 404.
 */
async function getVisibleRun(db: DbOrTx, actor: Actor, deploymentId: string): Promise<DeploymentRow> {
  const d = await getDeploymentRow(db, deploymentId);
  if (!d) throw new AppError("not_found", NOT_FOUND);
  try {
    await assertHostHolder(db, actor, d.hostId);
  } catch {
    throw new AppError("not_found", NOT_FOUND);
  }
  return d;
}

export type StepView = {
  name: string;
  label: string;
  state: DeploymentStepRow["state"];
  startedAt: string | null;
  finishedAt: string | null;
  timeoutAt: string | null;
  timeoutSeconds: number | null;
  attempts: number;
  message: string | null;
  failureReason: string | null;
};

function stepView(s: DeploymentStepRow): StepView {
  return {
    name: s.name,
    label: stepLabel(s.name),
    state: s.state,
    startedAt: s.startedAt?.toISOString() ?? null,
    finishedAt: s.finishedAt?.toISOString() ?? null,
    timeoutAt: s.timeoutAt?.toISOString() ?? null,
    timeoutSeconds: s.timeoutSeconds,
    attempts: s.attempts,
    message: s.message,
    failureReason: s.failureReason,
  };
}

type Row = Awaited<ReturnType<typeof listDeploymentRows>>["rows"][number];

function runView(actor: Actor, r: Row, steps: DeploymentStepRow[]) {
  const d = r.deployment;
  const active = isActiveRun(d.state);
  const rate = d.rateBytesPerSecond ?? null;
  const remaining = d.totalBytes !== null && d.totalBytes !== undefined ? Math.max(0, d.totalBytes - d.bytesWritten) : null;
  return {
    id: d.id,
    hostId: d.hostId,
    hostName: r.hostName,
    action: d.action,
    actionLabel: ACTION_LABELS[d.action],
    state: d.state,
    origin: d.origin,
    provisioning: provisioningStateOf(d),
    userEmail: r.userEmail,
    leaseId: d.leaseId,
    systemTemplate: d.systemTemplateId ? { id: d.systemTemplateId, name: r.systemTemplateName, version: d.systemTemplateVersion } : null,
    unattendedTemplate: d.unattendedTemplateId ? { id: d.unattendedTemplateId, name: r.unattendedTemplateName, version: d.unattendedTemplateVersion } : null,
    image: d.imageId ? { id: d.imageId, version: d.imageVersion } : null,
    vars: d.vars,
    options: d.options,
    bootCount: d.bootCount,
    retryOfId: d.retryOfId,
    groupId: d.groupId,
    createdAt: d.createdAt.toISOString(),
    startedAt: d.startedAt?.toISOString() ?? null,
    finishedAt: d.finishedAt?.toISOString() ?? null,
    failureReason: d.failureReason,
    progress: {
      bytesWritten: d.bytesWritten,
      totalBytes: d.totalBytes,
      rateBytesPerSecond: rate,
      etaSeconds: active && rate && rate > 0 && remaining !== null ? Math.round(remaining / rate) : null,
      updatedAt: d.progressAt?.toISOString() ?? null,
    },
    currentStep: steps.find((s) => s.state === "running" || s.state === "pending")?.name ?? null,
    steps: steps.map(stepView),
    canCancel: active && (d.origin === "holder" || isAdmin(actor)),
    canRetry: d.origin === "holder" && (d.state === "failed" || d.state === "cancelled"),
  };
}
export type DeploymentSummary = ReturnType<typeof runView>;
export type DeploymentView = DeploymentSummary & {
  logs: { id: number; at: string; source: string; line: string }[];
  logCount: number;
  lastEventId: number;
  /** The machine's last console lines, kept by the boot server while the run went on (lib/console/recorder.ts); null without a console. */
  console: { text: string; updatedAt: string } | null;
  /** The run's experiment record (/records/<id>), for installs and image deploys the holder started. */
  recordId: string | null;
};

/** GET /api/v1/hosts/:id/deployments — a held host's runs, newest first. */
export async function listDeployments(db: Db, actor: Actor, hostId: string, query: unknown = {}) {
  const q = parseInput(deploymentListQuerySchema, query);
  await assertHostHolder(db, actor, hostId);
  const { rows, total } = await listDeploymentRows(db, { hostId, limit: q.per_page, offset: (q.page - 1) * q.per_page });
  const steps = await listSteps(db, rows.map((r) => r.deployment.id));
  return {
    ...paginated(
      rows.map((r) => runView(actor, r, steps.filter((s) => s.deploymentId === r.deployment.id))),
      q,
      total,
    ),
    lastEventId: await lastEventId(db, hostId),
  };
}

/** GET /api/v1/deployments/:id — one run with its steps, progress and (the latest) log lines. */
export async function getDeployment(db: Db, actor: Actor, deploymentId: string, query: unknown = {}): Promise<DeploymentView> {
  const q = parseInput(deploymentGetQuerySchema, query);
  const d = await getVisibleRun(db, actor, deploymentId);
  // Read the feed position first: whatever happens after it, the live stream delivers.
  const eventId = await lastEventId(db, d.hostId);
  const { rows } = await listDeploymentRows(db, { deploymentId, limit: 1, offset: 0 });
  const steps = await listSteps(db, [deploymentId]);
  const logs = await listLogs(db, { deploymentId, afterId: q.logs_after, limit: LOG_LINES });
  return {
    ...runView(actor, rows[0]!, steps),
    logs: logs.map((l) => ({ id: l.id, at: l.at.toISOString(), source: l.source, line: l.line })),
    logCount: await countLogs(db, deploymentId),
    lastEventId: eventId,
    console: await getDeploymentConsole(db, deploymentId).then((c) => (c ? { text: c.text, updatedAt: c.updatedAt.toISOString() } : null)),
    recordId: await getRunRecordIdOfDeployment(db, deploymentId),
  };
}

/**
 * Why Kiln cannot restart this host itself ("Wake-on-LAN", "manual power"), or null when it can:
 * the reinstall review and the cancel confirmation say what will happen to the machine with it.
 */
export async function getRestartLimit(db: Db, actor: Actor, hostId: string): Promise<string | null> {
  await assertHostHolder(db, actor, hostId);
  const host = await getHostRow(db, hostId);
  return host ? cannotRestartReason(host.powerDriver) : null;
}

/** Where the host's live feed stands: the page subscribes after it, so nothing between falls through. */
export async function getHostFeedPosition(db: Db, actor: Actor, hostId: string): Promise<number> {
  await assertHostHolder(db, actor, hostId);
  return lastEventId(db, hostId);
}

export type RunSummary = {
  deploymentId: string;
  state: DeploymentRow["state"];
  provisioning: string;
  action: string;
  step: string | null;
  percent: number | null;
  /** Bytes per second of the write, and seconds left at that rate, while bytes flow. */
  rate: number | null;
  etaSeconds: number | null;
  failureReason: string | null;
};

/**
 * The latest run each held host had under its current lease, in a few words (dashboard cards).
 * Only the holder's own runs: a wipe before this lease is none of their business.
 */
export async function summarizeRuns(db: DbOrTx, pairs: { hostId: string; leaseId: string }[]): Promise<Map<string, RunSummary>> {
  const rows = await getLatestRunsOfLeases(db, pairs);
  const wanted = new Set(pairs.map((p) => `${p.hostId}/${p.leaseId}`));
  return new Map(
    rows
      .filter((r) => wanted.has(`${r.hostId}/${r.leaseId}`))
      .map((r) => [
        r.hostId,
        {
          deploymentId: r.id,
          state: r.state,
          provisioning: provisioningStateOf(r),
          action: ACTION_LABELS[r.action],
          step: r.currentStep && isActiveRun(r.state) ? stepLabel(r.currentStep) : null,
          percent: isActiveRun(r.state) && r.totalBytes ? Math.min(100, Math.round((r.bytesWritten / r.totalBytes) * 100)) : null,
          rate: isActiveRun(r.state) && r.rateBytesPerSecond ? r.rateBytesPerSecond : null,
          etaSeconds:
            isActiveRun(r.state) && r.totalBytes && r.rateBytesPerSecond ? Math.max(0, Math.round((r.totalBytes - r.bytesWritten) / r.rateBytesPerSecond)) : null,
          failureReason: r.failureReason,
        },
      ]),
  );
}

/** The latest run of a host for its page (null when it never had one), for holders and admins. */
export async function getLatestDeploymentView(db: Db, actor: Actor, hostId: string): Promise<DeploymentView | null> {
  await assertHostHolder(db, actor, hostId);
  const { rows } = await listDeploymentRows(db, { hostId, limit: 1, offset: 0 });
  return rows[0] ? getDeployment(db, actor, rows[0].deployment.id) : null;
}

