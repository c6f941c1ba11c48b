// Resolving what a holder asked for (POST /api/v1/hosts/:id/deployments) into a plan of pinned
// template and image versions, refusing anything that would fail before a deployment is created
// (./commands.ts creates it).
import { assertVersionFitsHost } from "../hosts/arch";
import { getActiveDeployment, getBootSettingsRow } from "@/db/queries/boot";
import { getHostRow } from "@/db/queries/hosts";
import { getImageRow } from "@/db/queries/images";
import { getTemplateVersion } from "@/db/queries/templates";
import type { DeploymentOptions, TemplateRow } from "@/db/schema";
import type { Db } from "../db";
import { AppError } from "../errors";
import { isOwnerOrAdmin, type Actor } from "../access/actor";
import { assertHostHolder } from "../access/hosts";
import { canReadShared } from "../access/sharing";
import { getReadableTemplate } from "../templates/templates";
import { deploymentStartSchema } from "../validation/deployments";
import { parseInput } from "../validation/parse";
import { choosePostInstall } from "./post-install";
import { assertDeploymentAllowedAtEnd } from "./end-guard";
import { BUILTIN_OF_ACTION, builtinSystemTemplate, busyHostError, type Pinned, type DeploymentPlan } from "./commands";

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
export async function planFromInput(db: Db, actor: Actor, hostId: string, input: unknown): Promise<DeploymentPlan> {
  const data = parseInput(deploymentStartSchema, input);
  const { leaseId } = await assertHostHolder(db, actor, hostId);
  const host = (await getHostRow(db, hostId))!;
  if (!leaseId) throw new AppError("conflict", `${host.name} is not leased; only a leased host can be provisioned (lease it first).`);
  // In a lease's grace period only a capture of the disk may run (lib/leases/staged-end.ts).
  await assertDeploymentAllowedAtEnd(db, leaseId, data.action);
  const active = await getActiveDeployment(db, hostId);
  if (active) throw busyHostError(host, active);
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

  let image: DeploymentPlan["image"] = null;
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
  const plan: DeploymentPlan = { host, leaseId, userId: actor.user?.id ?? null, action: data.action, system, unattended, image, vars, options, origin: "holder", power: true };
  return plan;
}
