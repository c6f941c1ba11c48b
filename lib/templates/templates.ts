// Templates as data: kinds, owners, visibility, immutable versions with history and
// diffs, built-ins kept in step with boot/templates, and a preview for a host.
import { createTwoFilesPatch } from "diff";
import { deleteTemplateRow, getTemplateByBuiltinKey, getTemplateRow, getTemplateVersion, insertTemplate, insertTemplateVersion, listTemplateVersions, listVisibleTemplates, updateTemplateRow } from "@/db/queries/templates";
import { getHostRow } from "@/db/queries/hosts";
import { getActiveDeployment } from "@/db/queries/boot";
import { isForeignKeyViolation } from "@/db/errors";
import type { PostInstallOption, TemplateRow } from "@/db/schema";
import { checkRendered } from "@/boot/checks";
import { listContextVariables, PREVIEW_TOKEN, type ContextVariable } from "@/boot/context";
import { BUILTIN_TEMPLATES, readBuiltinSource } from "@/boot/templates";
import { TemplateError } from "@/boot/template";
import type { Db, DbOrTx } from "../db";
import { AppError } from "../errors";
import { isAdmin, isOwnerOrAdmin, type Actor } from "../access/actor";
import { canReadShared, isProjectMemberOrAdmin } from "../access/sharing";
import { recordAudit } from "../audit/audit";
import { loadBootContext } from "./deployment-rendering";
import { assertHostHolder } from "../access/hosts";
import { previewSchema, templateCreateSchema, templateUpdateSchema, templateVersionCreateSchema } from "../validation/templates";
import { parseInput } from "../validation/parse";
import { compileInPool, renderInPool } from "./render-pool";

const NOT_FOUND = "That template does not exist, or you may not see it.";

function canWrite(actor: Actor, t: TemplateRow): boolean {
  if (t.builtinKey) return false;
  return isOwnerOrAdmin(actor, t.ownerUserId);
}

/** A template the actor may read; 404 otherwise (private templates are not acknowledged). */
export async function getReadableTemplate(db: DbOrTx, actor: Actor, id: string): Promise<TemplateRow> {
  const t = await getTemplateRow(db, id);
  if (!t || !(await canReadShared(db, actor, t))) throw new AppError("not_found", NOT_FOUND);
  return t;
}

async function getWritableTemplate(db: DbOrTx, actor: Actor, id: string): Promise<TemplateRow> {
  const t = await getReadableTemplate(db, actor, id);
  if (t.builtinKey) throw new AppError("forbidden", "Built-in templates are read-only. Copy it into a new template to change it.");
  if (!canWrite(actor, t)) throw new AppError("forbidden", "Only the template's owner can change it.");
  return t;
}

/** Syntax errors found at save time, so a broken template never becomes a version (parsed off the web thread). */
async function assertParses(source: string): Promise<void> {
  try {
    await compileInPool(source);
  } catch (e) {
    if (e instanceof TemplateError) {
      const what = e.kind === "syntax" ? "The template does not parse" : "The template was refused";
      throw new AppError("validation", `${what}: ${e.message}`, { fieldErrors: { source: [e.message] }, line: e.line, column: e.column });
    }
    throw e;
  }
}

async function assertProjectShare(db: DbOrTx, actor: Actor, visibility: string, projectId: string | null | undefined): Promise<void> {
  if (visibility === "public" && !isAdmin(actor)) throw AppError.field("visibility", "Only administrators publish templates to everyone; share it with a project instead.");
  if (visibility === "project" && projectId && !(await isProjectMemberOrAdmin(db, actor, projectId))) {
    throw AppError.field("projectId", "You can only share templates with projects you belong to.");
  }
}

export async function listTemplates(db: Db, actor: Actor, kind?: "system" | "unattended") {
  const rows = await listVisibleTemplates(db, { userId: actor.user?.id ?? null, isAdmin: isAdmin(actor), kind });
  return rows.map(({ template, ownerEmail, variables, postInstall }) => ({ ...template, ownerEmail, variables: variables ?? [], postInstall: postInstall ?? null, isBuiltin: Boolean(template.builtinKey), canEdit: canWrite(actor, template) }));
}

export async function getTemplate(db: Db, actor: Actor, id: string, version?: number) {
  const t = await getReadableTemplate(db, actor, id);
  const v = await getTemplateVersion(db, { templateId: id, version: version ?? t.latestVersion });
  if (!v) throw new AppError("not_found", `Version ${version} of this template does not exist.`);
  return { ...t, isBuiltin: Boolean(t.builtinKey), canEdit: canWrite(actor, t), version: v.version, source: v.source, variables: v.variables, postInstall: v.postInstall ?? null, versions: await listTemplateVersions(db, id) };
}

export async function createTemplate(db: Db, actor: Actor, input: unknown) {
  const data = parseInput(templateCreateSchema, input);
  await assertParses(data.source);
  return db.transaction(async (tx) => {
    await assertProjectShare(tx, actor, data.visibility, data.projectId);
    const t = await insertTemplate(tx, { name: data.name, description: data.description, kind: data.kind, format: data.format, visibility: data.visibility, projectId: data.projectId ?? null, ownerUserId: actor.user?.id ?? null, latestVersion: 1 });
    await insertTemplateVersion(tx, { templateId: t.id, version: 1, source: data.source, variables: data.variables, postInstall: data.postInstall ?? null, message: data.message || "created", createdByUserId: actor.user?.id ?? null });
    await recordAudit(tx, actor, { action: "template.create", targetType: "template", targetId: t.id, summary: `created ${data.kind} template ${data.name}` });
    return t;
  });
}

/** Every save is a new version; the old ones stay as they were. */
export async function saveTemplateVersion(db: Db, actor: Actor, id: string, input: unknown) {
  const data = parseInput(templateVersionCreateSchema, input);
  await assertParses(data.source);
  return db.transaction(async (tx) => {
    const t = await getWritableTemplate(tx, actor, id);
    if (data.postInstall && t.kind !== "unattended") throw AppError.field("postInstall", "Only an unattended template runs post-install configuration (the installed system does).");
    const locked = (await updateTemplateRow(tx, id, { latestVersion: t.latestVersion + 1 }))!;
    const prev = await getTemplateVersion(tx, { templateId: id, version: t.latestVersion });
    await insertTemplateVersion(tx, { templateId: id, version: locked.latestVersion, source: data.source, variables: data.variables ?? prev?.variables ?? [], postInstall: data.postInstall !== undefined ? data.postInstall : (prev?.postInstall ?? null), message: data.message, createdByUserId: actor.user?.id ?? null });
    await recordAudit(tx, actor, { action: "template.version", targetType: "template", targetId: id, summary: `saved ${t.name} version ${locked.latestVersion}` });
    return { id, version: locked.latestVersion };
  });
}

export async function updateTemplate(db: Db, actor: Actor, id: string, input: unknown) {
  const data = parseInput(templateUpdateSchema, input);
  return db.transaction(async (tx) => {
    const t = await getWritableTemplate(tx, actor, id);
    const visibility = data.visibility ?? t.visibility;
    const projectId = data.projectId !== undefined ? data.projectId : t.projectId;
    if (visibility === "project" && !projectId) throw AppError.field("projectId", "Choose the project to share the template with.");
    await assertProjectShare(tx, actor, visibility, projectId);
    const updated = await updateTemplateRow(tx, id, data);
    await recordAudit(tx, actor, { action: "template.update", targetType: "template", targetId: id, summary: `updated template ${t.name}`, data });
    return updated!;
  });
}

export async function deleteTemplate(db: Db, actor: Actor, id: string): Promise<void> {
  try {
    await db.transaction(async (tx) => {
      const t = await getWritableTemplate(tx, actor, id);
      await deleteTemplateRow(tx, id);
      await recordAudit(tx, actor, { action: "template.delete", targetType: "template", targetId: id, summary: `deleted template ${t.name}` });
    });
  } catch (e) {
    if (isForeignKeyViolation(e)) throw new AppError("conflict", "This template is in use.");
    throw e;
  }
}

export async function diffTemplateVersions(db: Db, actor: Actor, id: string, from: number, to: number): Promise<string> {
  const t = await getReadableTemplate(db, actor, id);
  const [a, b] = await Promise.all([getTemplateVersion(db, { templateId: id, version: from }), getTemplateVersion(db, { templateId: id, version: to })]);
  if (!a || !b) throw new AppError("not_found", "One of these versions does not exist.");
  return createTwoFilesPatch(`${t.name} v${from}`, `${t.name} v${to}`, a.source, b.source, "", "", { context: 3 });
}

/** Both outcomes carry what the template could use for this host (the editor's variables panel). */
export type PreviewResult =
  | { ok: true; output: string; warnings: string[]; bytes: number; variables: ContextVariable[] }
  | { ok: false; error: { message: string; line: number; column: number; kind: string; suggestions: string[]; missing: string | null }; variables: ContextVariable[] };

/**
 * Renders a template (saved, or the editor's unsaved text) for a host the actor holds,
 * with their vars. Template problems are results, not errors: the editor shows them.
 */
export async function previewTemplate(db: Db, actor: Actor, input: unknown): Promise<PreviewResult> {
  const data = parseInput(previewSchema, input);
  await assertHostHolder(db, actor, data.hostId);
  const host = (await getHostRow(db, data.hostId))!;
  let source = data.source;
  let format = data.format;
  // What deployment.post_install shows: the host's active run's, else the template's default.
  let postInstall: PostInstallOption | null = null;
  if (data.templateId) {
    const t = await getReadableTemplate(db, actor, data.templateId);
    format ??= t.format;
    const v = await getTemplateVersion(db, { templateId: t.id, version: data.version ?? t.latestVersion });
    if (source === undefined) {
      if (!v) throw new AppError("not_found", "That version does not exist.");
      source = v.source;
    }
    postInstall = v?.postInstall ?? null;
  }
  const deployment = (await getActiveDeployment(db, host.id)) ?? null;
  let variables: ContextVariable[] = [];
  try {
    const context = await loadBootContext(db, {
      host,
      mac: null,
      // A preview never shows a live token: it could be used to fetch the real files.
      deployment: deployment ? { id: deployment.id, action: deployment.action, postInstall: deployment.options.postInstall ?? postInstall } : { id: "preview", action: "install", postInstall },
      token: PREVIEW_TOKEN,
      vars: data.vars,
    });
    variables = listContextVariables(context);
    const output = await renderInPool(source!, context);
    return { ok: true, output, warnings: format ? checkRendered(format, output) : [], bytes: Buffer.byteLength(output), variables };
  } catch (e) {
    if (e instanceof TemplateError) return { ok: false, error: { message: e.reason, line: e.line, column: e.column, kind: e.kind, suggestions: e.suggestions, missing: e.missing }, variables };
    throw e;
  }
}

/** Keeps the built-in templates in step with boot/templates: a changed file becomes a new version. */
export async function syncBuiltinTemplates(db: Db): Promise<{ created: number; updated: number }> {
  let created = 0;
  let updated = 0;
  for (const b of BUILTIN_TEMPLATES) {
    const source = readBuiltinSource(b);
    await db.transaction(async (tx) => {
      const existing = await getTemplateByBuiltinKey(tx, b.key);
      if (!existing) {
        const t = await insertTemplate(tx, { builtinKey: b.key, name: b.name, description: b.description, kind: b.kind, format: b.format, visibility: "public", latestVersion: 1 });
        await insertTemplateVersion(tx, { templateId: t.id, version: 1, source, variables: b.variables, message: "built-in" });
        created++;
        return;
      }
      const latest = await getTemplateVersion(tx, { templateId: existing.id, version: existing.latestVersion });
      if (latest?.source === source && existing.name === b.name && existing.description === b.description) return;
      const next = existing.latestVersion + (latest?.source === source ? 0 : 1);
      await updateTemplateRow(tx, existing.id, { name: b.name, description: b.description, latestVersion: next });
      if (next !== existing.latestVersion) {
        await insertTemplateVersion(tx, { templateId: existing.id, version: next, source, variables: b.variables, message: "built-in updated with Kiln" });
        updated++;
      }
    });
  }
  return { created, updated };
}
