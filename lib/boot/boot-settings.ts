// The holder's choices for a host's next network boot, and the "mark for reinstall"
// that turns them into a deployment with pinned template versions and a one-time token.
import { getActiveDeployment, getBootSettingsRow, getHostVars, listHostDeployments, upsertBootSettings, upsertHostVars } from "@/db/queries/boot";
import { getHostRow, insertHostEvents, listInterfaces } from "@/db/queries/hosts";
import { getTemplateRow, getTemplateVersion } from "@/db/queries/templates";
import type { Db, DbOrTx } from "../db";
import { AppError } from "../errors";
import { assertAdmin, type Actor } from "../access/actor";
import { recordAudit } from "../audit/audit";
import { getReadableTemplate } from "../templates/templates";
import { bootSettingsSchema, hostVarsSchema } from "../validation/templates";
import { parseInput } from "../validation/parse";
import { assertHostHolder } from "../access/hosts";
import { createDeployment } from "../deployments/commands";
import { finishDeployment, withDeployment } from "../deployments/engine";
import { loadBootDecision } from "../deployments/next-boot";

async function describeNextBoot(db: DbOrTx, hostId: string) {
  const { next, active: d } = await loadBootDecision(db, hostId);
  if (!d) {
    // No run pending (a mark is possible), but a disk whose last write failed is not booted.
    if (next.kind === "halt") return { mode: "local" as const, summary: `Halts: the last write to its disk ${next.state === "cancelled" ? "was cancelled" : "failed"} (${next.reason}); reinstall it, or choose “Boot the disk anyway” on the host page.` };
    return { mode: "local" as const, summary: "Boots from its local disk." };
  }
  if (next.kind === "disk") return { mode: "local" as const, summary: "Boots from its local disk: the image is written, and the run waits for the installed system's first boot (cloud-init) to report done." };
  const sys = d.systemTemplateId ? await getTemplateRow(db, d.systemTemplateId) : undefined;
  const un = d.unattendedTemplateId ? await getTemplateRow(db, d.unattendedTemplateId) : undefined;
  return {
    mode: "deployment" as const,
    deploymentId: d.id,
    state: d.state,
    summary: `Network-boots ${sys ? `“${sys.name}” v${d.systemTemplateVersion}` : "its system template"}${un ? ` with “${un.name}” v${d.unattendedTemplateVersion}` : ""}${d.state === "running" ? " (running; a reboot continues it)" : ""}, until the install reports done.`,
  };
}

export async function getBootSettings(db: Db, actor: Actor, hostId: string) {
  const { leaseId } = await assertHostHolder(db, actor, hostId);
  const row = await getBootSettingsRow(db, hostId);
  // Settings belong to the lease that made them: a new holder starts fresh.
  const settings = row && row.leaseId === leaseId ? row : null;
  return {
    hostId,
    systemTemplateId: settings?.systemTemplateId ?? null,
    unattendedTemplateId: settings?.unattendedTemplateId ?? null,
    vars: settings?.vars ?? {},
    preferredMac: settings?.preferredMac ?? null,
    hostVars: await getHostVars(db, hostId),
    nextBoot: await describeNextBoot(db, hostId),
    deployments: (await listHostDeployments(db, hostId, 10)).map((d) => ({ id: d.id, action: d.action, state: d.state, createdAt: d.createdAt.toISOString(), finishedAt: d.finishedAt?.toISOString() ?? null, failureReason: d.failureReason })),
  };
}

export async function updateBootSettings(db: Db, actor: Actor, hostId: string, input: unknown) {
  const data = parseInput(bootSettingsSchema, input);
  const { leaseId } = await assertHostHolder(db, actor, hostId);
  if (!leaseId) throw new AppError("conflict", "Boot settings belong to a lease; this host is not leased.");
  for (const [field, kind] of [["systemTemplateId", "system"], ["unattendedTemplateId", "unattended"]] as const) {
    const id = data[field];
    if (!id) continue;
    const t = await getReadableTemplate(db, actor, id).catch(() => null);
    if (!t) throw AppError.field(field, "That template does not exist, or you may not use it.");
    if (t.kind !== kind) throw AppError.field(field, `“${t.name}” is a${t.kind === "system" ? " system" : "n unattended"} template; choose a${kind === "system" ? " system (iPXE)" : "n unattended"} one here.`);
  }
  if (data.preferredMac) {
    const macs = (await listInterfaces(db, [hostId])).map((i) => i.mac);
    if (!macs.includes(data.preferredMac)) throw AppError.field("preferredMac", "That MAC is not one of this host's interfaces.");
  }
  const before = await getBootSettingsRow(db, hostId);
  const keep = before && before.leaseId === leaseId ? before : null;
  await db.transaction(async (tx) => {
    await upsertBootSettings(tx, {
      hostId,
      leaseId,
      systemTemplateId: data.systemTemplateId !== undefined ? data.systemTemplateId : (keep?.systemTemplateId ?? null),
      unattendedTemplateId: data.unattendedTemplateId !== undefined ? data.unattendedTemplateId : (keep?.unattendedTemplateId ?? null),
      vars: (data.vars as Record<string, unknown> | undefined) ?? keep?.vars ?? {},
      preferredMac: data.preferredMac !== undefined ? data.preferredMac : (keep?.preferredMac ?? null),
      updatedByUserId: actor.user?.id ?? null,
    });
    await recordAudit(tx, actor, { action: "host.boot_settings", targetType: "host", targetId: hostId, summary: "changed boot settings", data: { fields: Object.keys(data) } });
  });
  // Read after the commit: read through `db` inside the transaction, another connection
  // would still see the settings from before the save.
  return getBootSettings(db, actor, hostId);
}

/** The host's own template variables, for the admin panel's editor (admins only, as setting them is). */
export async function readHostVars(db: Db, actor: Actor, hostId: string): Promise<Record<string, unknown>> {
  assertAdmin(actor, "Only administrators see a host's own variables here.");
  if (!(await getHostRow(db, hostId))) throw new AppError("not_found", "That host does not exist.");
  return getHostVars(db, hostId);
}

export async function setHostVars(db: Db, actor: Actor, hostId: string, input: unknown) {
  assertAdmin(actor, "Only administrators set per-host variables.");
  const { vars } = parseInput(hostVarsSchema, input);
  if (!(await getHostRow(db, hostId))) throw new AppError("not_found", "That host does not exist.");
  await db.transaction(async (tx) => {
    await upsertHostVars(tx, hostId, vars as Record<string, unknown>);
    await recordAudit(tx, actor, { action: "host.vars", targetType: "host", targetId: hostId, summary: "changed host variables" });
  });
  return { hostId, vars };
}

/**
 * Marks the host for reinstall: a run (install) pinned to the current versions of the chosen
 * templates and the current vars, which nobody powers — the next network boot answers its
 * system template until the install reports done (or the mark is undone).
 */
export async function markForReinstall(db: Db, actor: Actor, hostId: string, opts: { now?: Date } = {}) {
  const now = opts.now ?? new Date();
  const { leaseId } = await assertHostHolder(db, actor, hostId);
  if (!leaseId) throw new AppError("conflict", "Only a leased host can be reinstalled; lease it first.");
  const settings = await getBootSettingsRow(db, hostId);
  if (!settings || settings.leaseId !== leaseId || !settings.systemTemplateId) {
    throw AppError.field("systemTemplateId", "Choose a system (boot) template for this host first.");
  }
  const sys = await getReadableTemplate(db, actor, settings.systemTemplateId);
  const un = settings.unattendedTemplateId ? await getReadableTemplate(db, actor, settings.unattendedTemplateId) : null;
  const host = (await getHostRow(db, hostId))!;
  // The unattended template's default post-install repository, as a started install gets it.
  const postInstall = un ? ((await getTemplateVersion(db, { templateId: un.id, version: un.latestVersion }))?.postInstall ?? null) : null;
  try {
    const d = await createDeployment(
      db,
      actor,
      {
        host,
        leaseId,
        userId: actor.user?.id ?? null,
        action: "install",
        system: { id: sys.id, version: sys.latestVersion, name: sys.name },
        unattended: un ? { id: un.id, version: un.latestVersion, name: un.name } : null,
        image: null,
        vars: settings.vars,
        options: { power: false, ...(postInstall ? { postInstall } : {}) },
        origin: "holder",
        power: false,
      },
      now,
    );
    return { deploymentId: d.id, nextBoot: await describeNextBoot(db, hostId) };
  } catch (e) {
    if (e instanceof AppError && e.code === "conflict") throw new AppError("conflict", "This host is already marked (or another run is active); undo the mark first to change it.");
    throw e;
  }
}

export async function undoMark(db: Db, actor: Actor, hostId: string, opts: { now?: Date } = {}) {
  const now = opts.now ?? new Date();
  await assertHostHolder(db, actor, hostId);
  const active = await getActiveDeployment(db, hostId);
  if (!active) throw new AppError("conflict", "This host is not marked for reinstall.");
  await withDeployment(
    db,
    active.id,
    async (ctx) => {
      await finishDeployment(ctx, "cancelled", "mark undone");
      await insertHostEvents(ctx.tx, [{ hostId, kind: "unmarked", at: now, actorUserId: actor.user?.id ?? null, message: `mark undone (deployment ${active.id})` }]);
      await recordAudit(ctx.tx, actor, { action: "host.unmark", targetType: "host", targetId: hostId, summary: `undid reinstall mark (deployment ${active.id})` });
    },
    now,
  );
  return { nextBoot: await describeNextBoot(db, hostId) };
}
