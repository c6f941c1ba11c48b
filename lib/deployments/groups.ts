// One file: starting, viewing and retrying a group all read its stored pinned spec and access check.
// Deploy many at once (issue 16 item 4): one run start over all or some held hosts of a lease, a
// run per host through the same planFromInput → createDeployment path as a single start, every run
// with the group's id. The image and template versions are pinned once, for the whole group, so
// every host gets the same. A host that cannot start (busy, no longer held) is said per host; the
// rest start. A host whose run fails is retried alone (the retry-group-host job, from
// finishDeployment) until it has had max_attempts runs; the group never restarts as a whole.
import {
  deleteDeploymentGroup,
  getDeploymentGroupRow,
  insertDeploymentGroup,
  listGroupHosts,
  listGroupDeployments,
  listGroupDeploymentsToRetry,
} from "@/db/queries/deployment-groups";
import { getDeploymentRow } from "@/db/queries/deployments";
import { insertHostEvents } from "@/db/queries/hosts";
import { getImageRow } from "@/db/queries/images";
import { getLeaseRow, listLeaseHostRows } from "@/db/queries/leases";
import { getTemplateVersion } from "@/db/queries/templates";
import { getUserById } from "@/db/queries/users";
import type { DeploymentGroupRow, DeploymentOptions } from "@/db/schema";
import type { Db } from "../db";
import { actorOf, isOwnerOrAdmin, type Actor } from "../access/actor";
import { recordAudit } from "../audit/audit";
import { nowOf, type Clock } from "../clock";
import { AppError, isAppError } from "../errors";
import { isActiveDeployment } from "../hosts/state-machine";
import { getLogger } from "../log";
import { DEFAULT_GROUP_ATTEMPTS, GROUP_ACTIONS, groupPinsSchema, leaseDeploySchema, MAX_GROUP_ATTEMPTS, type deploymentGroupViewSchema } from "../validation/deployment-groups";
import { deploymentStartSchema, type DeploymentStart } from "../validation/deployments";
import { parseInput } from "../validation/parse";
import type { z } from "zod";
import { createDeployment, retryDeployment, type DeploymentPlan } from "./commands";
import { planFromInput } from "./start-plan";
import { stepLabel } from "./engine";
import { choosePostInstall } from "./post-install";

export type StartGroupParams = {
  leaseId: string;
  /** Hosts of the lease to deploy to; all its held hosts when left out. */
  hostIds?: string[];
  /** A run start (lib/validation/deployments.ts deploymentStartSchema input), the same on every host. */
  spec: unknown;
  reservationId?: string;
  rerunOfRecordId?: string;
  /** Runs per host in all, the first included (a failed host is retried alone). */
  maxAttempts?: number;
};

export type HostRefusal = { hostId: string; name: string; reason: string };
export type DeploymentGroupView = z.infer<typeof deploymentGroupViewSchema>;

const LEASE_NOT_FOUND = "That lease does not exist.";
const GROUP_NOT_FOUND = "That deployment group does not exist.";

type Pinned = DeploymentPlan["system"];
/** What every host of a group gets, read once: the versions, and the post-install repository. */
type Pins = { system: Pinned; unattended: Pinned | null; image: DeploymentPlan["image"]; postInstall: DeploymentOptions["postInstall"] | null };
/** The group's spec as stored: the run start, with the pins beside it. */
type StoredSpec = DeploymentStart & { pinned: Pins };

const log = () => getLogger("deployment-groups");

/** May the actor see and act on a lease's groups: its holder, or an administrator. */
function mayUseLease(actor: Actor, leaseUserId: string | null | undefined): boolean {
  return isOwnerOrAdmin(actor, leaseUserId);
}

/** The run start, checked for a group: one of the group actions, and templates named outright. */
function parseGroupSpec(spec: unknown): { start: DeploymentStart; versions: z.infer<typeof groupPinsSchema> } {
  const start = parseInput(deploymentStartSchema, spec);
  const versions = parseInput(groupPinsSchema, spec ?? {});
  if (!(GROUP_ACTIONS as readonly string[]).includes(start.action)) {
    throw AppError.field("action", "A group deploys an image, installs or wipes; capture a disk from its host's page.");
  }
  if (start.action === "install") {
    // Each host's saved boot settings may name other templates: a group names its own, so every host gets the same.
    if (!start.systemTemplateId) throw AppError.field("systemTemplateId", "Choose the system (boot) template: a group installs the same on every host.");
    start.unattendedTemplateId ??= null;
  }
  return { start, versions };
}

/** The plan's versions as the group's pins, moved to the versions the spec names (a reservation's, pinned at admission). */
async function pinsFrom(db: Db, plan: DeploymentPlan, start: DeploymentStart, versions: z.infer<typeof groupPinsSchema>): Promise<Pins> {
  const pins: Pins = { system: { ...plan.system }, unattended: plan.unattended ? { ...plan.unattended } : null, image: plan.image, postInstall: plan.options.postInstall ?? null };
  const exists = async (p: Pinned, version: number, field: string) => {
    if (!(await getTemplateVersion(db, { templateId: p.id, version }))) throw AppError.field(field, `“${p.name}” has no version ${version}.`);
  };
  if (versions.systemTemplateVersion && start.action === "install") {
    await exists(pins.system, versions.systemTemplateVersion, "systemTemplateId");
    pins.system.version = versions.systemTemplateVersion;
  }
  if (versions.unattendedTemplateVersion && pins.unattended) {
    await exists(pins.unattended, versions.unattendedTemplateVersion, "unattendedTemplateId");
    pins.unattended.version = versions.unattendedTemplateVersion;
    // The post-install default is that version's, as a single start at that version would have.
    const templateDefault = (await getTemplateVersion(db, { templateId: pins.unattended.id, version: pins.unattended.version }))?.postInstall ?? null;
    pins.postInstall = choosePostInstall({ action: start.action, requested: start.postInstall, templateDefault }) ?? null;
  }
  return pins;
}

function applyPins(plan: DeploymentPlan, pins: Pins, groupId: string): DeploymentPlan {
  const options: DeploymentOptions = { ...plan.options };
  delete options.postInstall;
  if (pins.postInstall) options.postInstall = pins.postInstall;
  return { ...plan, system: pins.system, unattended: pins.unattended, image: pins.image, options, groupId };
}

/** An AppError a single host answers with (busy, not leased, a template that does not render for it). */
function hostReason(e: unknown): string {
  if (!isAppError(e)) throw e;
  return e.message;
}

function noneStarted(refused: HostRefusal[]): AppError {
  return new AppError("conflict", `No host could start: ${refused.map((r) => `${r.name}: ${r.reason}`).join("; ")}`, { refused });
}

/**
 * Starts one run start on all (or the chosen) held hosts of a lease as a group. The lease's
 * holder or an administrator; someone else's lease is a 404. A host that is not the lease's is
 * refused with nothing started; a host that cannot start now is in `refused`, the rest start.
 */
export async function startDeploymentGroup(db: Db, actor: Actor, p: StartGroupParams, clock: Clock = {}): Promise<{ groupId: string; deploymentIds: string[]; refused: HostRefusal[] }> {
  const now = nowOf(clock);
  const lease = await getLeaseRow(db, p.leaseId);
  if (!lease || !mayUseLease(actor, lease.userId)) throw new AppError("not_found", LEASE_NOT_FOUND);
  if (lease.state !== "active") throw new AppError("conflict", `This lease has ended (${lease.state}); lease the hosts again to deploy to them.`);
  const maxAttempts = p.maxAttempts ?? DEFAULT_GROUP_ATTEMPTS;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > MAX_GROUP_ATTEMPTS) throw AppError.field("maxAttempts", `Between 1 and ${MAX_GROUP_ATTEMPTS} runs per host.`);
  const { start, versions } = parseGroupSpec(p.spec);

  const leaseHosts = await listLeaseHostRows(db, [lease.id]);
  const byId = new Map(leaseHosts.map((h) => [h.hostId, h]));
  const wanted = p.hostIds ? [...new Set(p.hostIds)] : leaseHosts.filter((h) => !h.releasedAt).map((h) => h.hostId);
  const strangers = wanted.filter((id) => !byId.has(id));
  if (strangers.length) throw AppError.field("hostIds", `${strangers.length === 1 ? "A host you chose is" : `${strangers.length} hosts you chose are`} not in this lease (${strangers.join(", ")}); nothing was started.`);
  if (wanted.length === 0) throw new AppError("conflict", "This lease holds no hosts any more; nothing to deploy to.");

  // Plan every host first: a bad choice (an image that is not ready, a template one may not use)
  // is the same for all of them and refuses the whole request before anything is powered.
  const refused: HostRefusal[] = [];
  const plans: DeploymentPlan[] = [];
  for (const hostId of wanted) {
    const h = byId.get(hostId)!;
    if (h.releasedAt) {
      refused.push({ hostId, name: h.name, reason: "no longer held by this lease (released)" });
      continue;
    }
    try {
      plans.push(await planFromInput(db, actor, hostId, start));
    } catch (e) {
      if (isAppError(e) && e.code === "validation") throw e;
      refused.push({ hostId, name: h.name, reason: hostReason(e) });
    }
  }
  if (plans.length === 0) throw noneStarted(refused);
  const pins = await pinsFrom(db, plans[0]!, start, versions);
  const spec: StoredSpec = { ...start, ...(pins.image ? { imageVersion: pins.image.version } : {}), pinned: pins };

  const group = await db.transaction(async (tx) => {
    const g = await insertDeploymentGroup(tx, {
      leaseId: lease.id,
      reservationId: p.reservationId ?? null,
      userId: actor.user?.id ?? lease.userId,
      spec: spec as unknown as Record<string, unknown>,
      hostIds: wanted,
      maxAttempts,
      rerunOfRecordId: p.rerunOfRecordId ?? null,
      createdAt: now,
    });
    await recordAudit(tx, actor, {
      action: "deployment_group.start",
      targetType: "lease",
      targetId: lease.id,
      summary: `started ${start.action.replace("_", " ")} on ${plans.length} of ${wanted.length} hosts (deployment group ${g.id})`,
      data: { groupId: g.id, hostIds: wanted, maxAttempts, refused },
    });
    return g;
  });

  const deploymentIds: string[] = [];
  for (const plan of plans) {
    try {
      deploymentIds.push((await createDeployment(db, actor, applyPins(plan, pins, group.id), now)).id);
    } catch (e) {
      refused.push({ hostId: plan.host.id, name: plan.host.name, reason: hostReason(e) });
    }
  }
  if (deploymentIds.length === 0) {
    await deleteDeploymentGroup(db, group.id);
    throw noneStarted(refused);
  }
  return { groupId: group.id, deploymentIds, refused };
}

/** POST /api/v1/leases/:id/deploy — the group as its page shows it, with the hosts that did not start. */
export async function startLeaseDeploy(db: Db, actor: Actor, leaseId: string, input: unknown, clock: Clock = {}): Promise<DeploymentGroupView> {
  const body = parseInput(leaseDeploySchema, input);
  // The raw spec, not the parsed one: the parse happens once more in startDeploymentGroup.
  const spec = (input as { spec: unknown }).spec;
  const started = await startDeploymentGroup(db, actor, { leaseId, hostIds: body.hostIds, spec, maxAttempts: body.maxAttempts }, clock);
  return { ...(await getDeploymentGroup(db, actor, started.groupId)), refused: started.refused };
}

async function visibleGroup(db: Db, actor: Actor, groupId: string) {
  const row = await getDeploymentGroupRow(db, groupId);
  if (!row || !mayUseLease(actor, row.leaseUserId)) throw new AppError("not_found", GROUP_NOT_FOUND);
  return row;
}

function storedSpec(g: DeploymentGroupRow): StoredSpec {
  return g.spec as unknown as StoredSpec;
}

async function describeWhat(db: Db, spec: StoredSpec): Promise<string> {
  const { pinned } = spec;
  if (spec.action === "deploy_image" && pinned.image) {
    const img = await getImageRow(db, pinned.image.id);
    return `image “${img?.name ?? pinned.image.id}” version ${pinned.image.version}${pinned.unattended ? ` with cloud-init “${pinned.unattended.name}” v${pinned.unattended.version}` : ""}`;
  }
  if (spec.action === "install") return `“${pinned.system.name}” v${pinned.system.version}${pinned.unattended ? ` with “${pinned.unattended.name}” v${pinned.unattended.version}` : ""}`;
  return spec.wipeMode === "full" ? "every byte zeroed" : "signatures, partition tables and both ends";
}

/** GET /api/v1/deployment-groups/:id — every host of the group: its latest run, step, progress, attempts. */
export async function getDeploymentGroup(db: Db, actor: Actor, groupId: string): Promise<DeploymentGroupView> {
  const { group: g, userEmail, leaseUserId } = await visibleGroup(db, actor, groupId);
  const lease = g.leaseId ? await getLeaseRow(db, g.leaseId) : undefined;
  const runs = await listGroupDeployments(db, g.id);
  const hostRows = new Map((await listGroupHosts(db, { hostIds: g.hostIds, leaseId: g.leaseId })).map((h) => [h.id, h]));
  const spec = storedSpec(g);
  const hosts = g.hostIds.map((hostId) => {
    const mine = runs.filter((r) => r.hostId === hostId);
    const latest = mine.at(-1);
    const held = hostRows.get(hostId)?.held ?? false;
    const active = latest ? isActiveDeployment(latest.state) : false;
    return {
      hostId,
      name: hostRows.get(hostId)?.name ?? latest?.hostName ?? hostId,
      state: latest?.state ?? ("not_started" as const),
      deploymentId: latest?.id ?? null,
      step: active && latest?.currentStep ? stepLabel(latest.currentStep) : null,
      progress: {
        bytesWritten: latest?.bytesWritten ?? 0,
        totalBytes: latest?.totalBytes ?? null,
        percent: latest?.totalBytes ? Math.min(100, Math.round((latest.bytesWritten / latest.totalBytes) * 100)) : null,
      },
      attempts: mine.length,
      failureReason: latest ? latest.failureReason : held ? "not started: the host was busy or could not start when the group started (Retry failed hosts starts it)" : "not started: no longer held by this lease",
      startedAt: latest?.startedAt?.toISOString() ?? null,
      finishedAt: latest?.finishedAt?.toISOString() ?? null,
      runs: mine.map((r) => ({ id: r.id, state: r.state, createdAt: r.createdAt.toISOString(), finishedAt: r.finishedAt?.toISOString() ?? null, failureReason: r.failureReason })),
      held,
    };
  });
  const retryable = (h: (typeof hosts)[number]) => h.held && (h.state === "failed" || h.state === "cancelled" || h.state === "not_started");
  return {
    id: g.id,
    leaseId: g.leaseId,
    reservationId: g.reservationId,
    rerunOfRecordId: g.rerunOfRecordId,
    userEmail,
    action: spec.action as (typeof GROUP_ACTIONS)[number],
    spec: g.spec,
    what: await describeWhat(db, spec),
    maxAttempts: g.maxAttempts,
    createdAt: g.createdAt.toISOString(),
    counts: {
      total: hosts.length,
      done: hosts.filter((h) => h.state === "done").length,
      active: hosts.filter((h) => h.state === "pending" || h.state === "running").length,
      failed: hosts.filter((h) => h.state === "failed" || h.state === "cancelled").length,
      notStarted: hosts.filter((h) => h.state === "not_started").length,
    },
    hosts,
    canRetryFailed: lease?.state === "active" && mayUseLease(actor, leaseUserId) && hosts.some(retryable),
  };
}

/**
 * POST /api/v1/deployment-groups/:id/retry-failed — the person's "Retry failed hosts": each held
 * host whose latest run failed or was cancelled is retried (same versions), each that never
 * started is started with the group's pinned spec. A person's retry is not bounded by
 * max_attempts (that bounds Kiln's own retries); hosts done or still running are left alone.
 */
export async function retryFailedGroupHosts(db: Db, actor: Actor, groupId: string, clock: Clock = {}): Promise<DeploymentGroupView> {
  const now = nowOf(clock);
  const { group: g } = await visibleGroup(db, actor, groupId);
  const lease = g.leaseId ? await getLeaseRow(db, g.leaseId) : undefined;
  if (!lease || lease.state !== "active") throw new AppError("conflict", "The lease of this group has ended; nothing can be retried.");
  const before = await getDeploymentGroup(db, actor, groupId);
  const spec = storedSpec(g);
  const refused: HostRefusal[] = [];
  const retried: string[] = [];
  for (const h of before.hosts) {
    if (!h.held || !(h.state === "failed" || h.state === "cancelled" || h.state === "not_started")) continue;
    try {
      if (h.deploymentId) retried.push((await retryDeployment(db, actor, h.deploymentId, { now })).id);
      else {
        const plan = await planFromInput(db, actor, h.hostId, spec);
        retried.push((await createDeployment(db, actor, applyPins(plan, spec.pinned, g.id), now)).id);
      }
    } catch (e) {
      refused.push({ hostId: h.hostId, name: h.name, reason: hostReason(e) });
    }
  }
  if (retried.length === 0 && refused.length === 0) throw new AppError("conflict", "No host of this group has failed; nothing to retry.");
  if (retried.length === 0) throw noneStarted(refused);
  await recordAudit(db, actor, {
    action: "deployment_group.retry",
    targetType: "lease",
    targetId: lease.id,
    summary: `retried ${retried.length} host${retried.length === 1 ? "" : "s"} of deployment group ${g.id}`,
    data: { groupId: g.id, deploymentIds: retried, refused },
  });
  return { ...(await getDeploymentGroup(db, actor, groupId)), refused };
}

/**
 * Kiln's own retry of one failed group run, for that host alone (the retry-group-host job, queued
 * when the run failed, and its minutely sweep). Safe to run twice: only the host's latest run in
 * the group is retried, and only while it has had fewer than max_attempts runs there. Acts as
 * whoever started the group while they may still (the holder, or an administrator): a lease that
 * changed hands since is the new holder's to decide. Returns the new run's id, or null.
 */
export async function retryGroupDeployment(db: Db, deploymentId: string, clock: Clock = {}): Promise<string | null> {
  const run = await getDeploymentRow(db, deploymentId);
  if (!run?.groupId || run.state !== "failed") return null;
  const row = await getDeploymentGroupRow(db, run.groupId);
  if (!row) return null;
  const mine = (await listGroupDeployments(db, run.groupId)).filter((r) => r.hostId === run.hostId);
  if (mine.at(-1)?.id !== run.id) return null;
  const note = (message: string) => insertHostEvents(db, [{ hostId: run.hostId, kind: "deployment_group", at: nowOf(clock), leaseId: run.leaseId, message }]);
  if (mine.length >= row.group.maxAttempts) {
    await note(`not retried: ${mine.length} of ${row.group.maxAttempts} runs used in deployment group ${row.group.id}`);
    return null;
  }
  const user = row.group.userId ? await getUserById(db, row.group.userId) : undefined;
  const actor = user ? actorOf(user, null) : null;
  if (!actor || !mayUseLease(actor, row.leaseUserId)) {
    await note(`not retried: the lease changed hands since deployment group ${row.group.id} started`);
    return null;
  }
  try {
    const next = await retryDeployment(db, actor, run.id, clock);
    log().info({ groupId: row.group.id, hostId: run.hostId, failed: run.id, retry: next.id, attempt: mine.length + 1 }, "retrying a failed host of a deployment group");
    return next.id;
  } catch (e) {
    if (!isAppError(e)) throw e;
    await note(`not retried: ${e.message}`);
    return null;
  }
}

/** The retry job's handler: one run, or (the sweep) every failed group run still due a retry. */
export async function retryDueGroupDeployments(db: Db, p: { deploymentId?: string }, clock: Clock = {}): Promise<{ retried: string[] }> {
  const ids = p.deploymentId ? [p.deploymentId] : await listGroupDeploymentsToRetry(db);
  const retried: string[] = [];
  for (const id of ids) {
    const next = await retryGroupDeployment(db, id, clock);
    if (next) retried.push(next);
  }
  return { retried };
}
