// Run records as people reach them: who may read one (administrators, the project's members,
// whoever ran it, anyone once published), its view, export, list, publication, the diff of two
// and what a re-run starts from. Writing a record, in its deployment's transaction, is ./records.ts.
import { getLatestHostFactVersion } from "@/db/queries/host-facts";
import { getActiveLeaseOfHost, getHostRow } from "@/db/queries/hosts";
import { getImageRow, getImageVersionRow } from "@/db/queries/images";
import { listActiveLeaseIdsOfUser, listLeaseHostRows } from "@/db/queries/leases";
import { getMembership } from "@/db/queries/projects";
import { getRerunOfRecordId, getRunRecordRow, listRerunRecordIds, listRunRecordRows, publishRunRecordRow } from "@/db/queries/run-records";
import { getTemplateRow, getTemplateVersion } from "@/db/queries/templates";
import type { RunRecordRow } from "@/db/schema";
import type { Db, DbOrTx } from "../db";
import { AppError } from "../errors";
import { isAdmin, type Actor } from "../access/actor";
import { recordAudit } from "../audit/audit";
import { nowOf, type Clock } from "../clock";
import { diffFacts } from "../hosts/facts-diff";
import { snapshotOf } from "../hosts/facts";
import { assertHostHolder } from "../access/hosts";
import { canReadShared } from "../access/sharing";
import { paginated } from "../validation/common";
import { parseInput } from "../validation/parse";
import { recordDiffQuerySchema, recordListQuerySchema } from "../validation/records";
import { getKilnVersion, recordableSnapshot, recordUrl, sha256Hex, type DeploymentOutcome, type RunRecordDocument } from "./records";

const NOT_FOUND = "That run record does not exist, or you may not see it.";

type Access = { row: RunRecordRow; role: "admin" | "leader" | "member" | "runner" | "public" };

/**
 * A record the actor may read: administrators any; the project's members and whoever ran it;
 * anyone (signed in or not, `actor.user` null) once published. Anyone else: 404.
 */
async function getReadableRecord(db: DbOrTx, actor: Actor, id: string): Promise<Access> {
  const row = await getRunRecordRow(db, id);
  if (!row) throw new AppError("not_found", NOT_FOUND);
  if (isAdmin(actor)) return { row, role: "admin" };
  if (actor.user) {
    const m = row.projectId ? await getMembership(db, { projectId: row.projectId, userId: actor.user.id }) : undefined;
    if (m) return { row, role: m.role };
    if (row.userId === actor.user.id) return { row, role: "runner" };
  }
  if (row.publishedAt) return { row, role: "public" };
  throw new AppError("not_found", NOT_FOUND);
}

/** The stored record, typed: written by buildRunRecord (schemaVersion 1). */
export function documentOf(row: RunRecordRow): RunRecordDocument {
  return row.record as unknown as RunRecordDocument;
}

export type RunRecordView = Awaited<ReturnType<typeof getRunRecord>>;

/** GET /api/v1/records/:id — the record, its sha256 and outcome. */
export async function getRunRecord(db: Db, actor: Actor, id: string) {
  const { row, role } = await getReadableRecord(db, actor, id);
  return {
    id: row.id,
    url: recordUrl(row.id),
    recordSha256: row.recordSha256,
    record: documentOf(row),
    outcome: (row.outcome as DeploymentOutcome | null) ?? null,
    publishedAt: row.publishedAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    deploymentId: row.deploymentId,
    rerunOf: row.deploymentId ? await getRerunOfRecordId(db, row.deploymentId) : null,
    reruns: await listRerunRecordIds(db, row.id),
    canPublish: !row.publishedAt && (role === "admin" || role === "leader"),
  };
}

/** The JSON file "Download JSON" saves: the record with everything needed to check it (its sha256 is of `record` alone, canonical). */
export function exportOf(view: RunRecordView) {
  return {
    id: view.id,
    url: view.url,
    recordSha256: view.recordSha256,
    sha256Of: "the canonical JSON of `record`: keys sorted at every level, no whitespace, UTF-8",
    record: view.record,
    outcome: view.outcome,
    publishedAt: view.publishedAt,
    createdAt: view.createdAt,
  };
}

/** GET /api/v1/records — records the caller may read, of a host or a project, newest first. */
export async function listRunRecords(db: Db, actor: Actor, query: unknown = {}) {
  const q = parseInput(recordListQuerySchema, query);
  const admin = isAdmin(actor);
  if (q.projectId && !admin && !(await getMembership(db, { projectId: q.projectId, userId: actor.user!.id }))) {
    throw new AppError("not_found", "That project does not exist, or you are not a member.");
  }
  const { rows, total } = await listRunRecordRows(db, { hostId: q.hostId, projectId: q.projectId, memberId: admin ? undefined : actor.user!.id, limit: q.per_page, offset: (q.page - 1) * q.per_page });
  return paginated(
    rows.map((row) => {
      const r = documentOf(row);
      return {
        id: row.id,
        url: recordUrl(row.id),
        action: r.run.action,
        hostId: row.hostId,
        hostName: r.host?.name ?? null,
        projectId: row.projectId,
        image: r.image ? { name: r.image.name, version: r.image.version } : null,
        recordSha256: row.recordSha256,
        outcome: (row.outcome as DeploymentOutcome | null) ?? null,
        publishedAt: row.publishedAt?.toISOString() ?? null,
        createdAt: row.createdAt.toISOString(),
      };
    }),
    q,
    total,
  );
}

/** POST /api/v1/records/:id/publish — readable without signing in from now on; the project's leaders and administrators. */
export async function publishRunRecord(db: Db, actor: Actor, id: string, clock: Clock = {}) {
  const { role, row } = await getReadableRecord(db, actor, id);
  if (role !== "admin" && role !== "leader") throw new AppError("forbidden", "Only a leader of the record's project, or an administrator, can publish it.");
  if (!row.publishedAt) {
    await db.transaction(async (tx) => {
      await publishRunRecordRow(tx, id, nowOf(clock));
      await recordAudit(tx, actor, { action: "record.publish", targetType: "run_record", targetId: id, summary: `published run record ${id} (${documentOf(row).host.name})` });
    });
  }
  return getRunRecord(db, actor, id);
}

export type RecordDiff = Awaited<ReturnType<typeof diffRunRecord>>;

const showVersion = (n: number | null) => (n === null ? "none" : `v${n}`);

/**
 * GET /api/v1/records/:id/diff?hostId= — what would differ if the record were re-run now on
 * that host (one the caller holds): a newer image or template version (the re-run still uses the
 * pinned ones), a pinned version that is gone, and the host's hardware against the record's facts.
 */
export async function diffRunRecord(db: Db, actor: Actor, id: string, query: unknown = {}) {
  const q = parseInput(recordDiffQuerySchema, query);
  const { row } = await getReadableRecord(db, actor, id);
  const r = documentOf(row);
  const summary: string[] = [];

  let image: {
    id: string;
    name: string;
    pinnedVersion: number;
    pinnedAvailable: boolean;
    latestVersion: number | null;
    newerExists: boolean;
    usable: boolean;
  } | null = null;
  if (r.image) {
    const img = await getImageRow(db, r.image.id);
    const v = img ? await getImageVersionRow(db, { imageId: img.id, version: r.image.version }) : undefined;
    const pinnedAvailable = v?.state === "ready" && v.sha256 === r.image.sha256;
    const usable = Boolean(img && (await canReadShared(db, actor, img)));
    const latestVersion = img?.latestVersion ?? null;
    image = { id: r.image.id, name: r.image.name, pinnedVersion: r.image.version, pinnedAvailable, latestVersion, newerExists: latestVersion !== null && latestVersion > r.image.version, usable };
    if (!img) summary.push(`Image “${r.image.name}” no longer exists: this record cannot be re-run.`);
    else if (!pinnedAvailable) summary.push(`Version ${r.image.version} of image “${r.image.name}” is gone${v && v.sha256 !== r.image.sha256 ? " (its bytes changed)" : ""}: this record cannot be re-run as it was.`);
    else if (!usable) summary.push(`You may not use image “${r.image.name}”: a re-run by you would be refused.`);
    if (image.newerExists) summary.push(`A newer version of image “${r.image.name}” exists: v${latestVersion} (a re-run writes v${r.image.version}, as recorded).`);
  }

  const templates = [];
  for (const t of r.templates) {
    const row = await getTemplateRow(db, t.id);
    const v = row ? await getTemplateVersion(db, { templateId: t.id, version: t.version }) : undefined;
    const pinnedAvailable = Boolean(v && sha256Hex(v.source) === t.sha256);
    const latestVersion = row?.latestVersion ?? null;
    const builtin = t.builtinKey !== null;
    const newerExists = latestVersion !== null && latestVersion > t.version;
    templates.push({ role: t.role, id: t.id, name: t.name, pinnedVersion: t.version, latestVersion, newerExists, pinnedAvailable, builtin });
    if (!row || !pinnedAvailable) summary.push(`Template “${t.name}” v${t.version} is gone: this record cannot be re-run as it was.`);
    else if (newerExists && builtin && r.run.action === "deploy_image") summary.push(`Kiln's built-in “${t.name}” is now ${showVersion(latestVersion)} (recorded v${t.version}); a re-run boots the current one.`);
    else if (newerExists) summary.push(`Template “${t.name}” has a newer version: v${latestVersion} (a re-run uses v${t.version}, as recorded).`);
  }

  let host: { id: string; name: string } | null = null;
  let facts: { recordedVersion: number | null; currentVersion: number | null; changes: ReturnType<typeof diffFacts> } | null = null;
  if (q.hostId) {
    // The host's hardware is its holder's (and administrators') to see.
    await assertHostHolder(db, actor, q.hostId);
    const h = (await getHostRow(db, q.hostId))!;
    host = { id: h.id, name: h.name };
    const current = await getLatestHostFactVersion(db, h.id);
    const recorded = r.facts?.snapshot ?? recordableSnapshot({ cpuCores: null, memoryMb: null, disks: [], facts: {} });
    const changes = diffFacts(recorded, recordableSnapshot(snapshotOf(h)));
    facts = { recordedVersion: r.facts?.version ?? null, currentVersion: current?.version ?? null, changes };
    const other = h.id !== r.host.id ? ` (the record ran on ${r.host.name})` : "";
    if (changes.length === 0) summary.push(`${h.name}'s hardware matches the record${other}.`);
    else
      summary.push(
        `${h.name}'s hardware differs from the record${other}: ${changes.map((c) => (c.kind === "changed" ? `${c.what} ${c.before} → ${c.after}` : c.kind === "added" ? `${c.what} added (${c.after})` : `${c.what} removed (${c.before})`)).join("; ")}.`,
      );
  }

  const current = getKilnVersion();
  if (r.kiln.version !== current) summary.push(`Kiln is now ${current} (the record was made with ${r.kiln.version}).`);
  return { recordId: row.id, host, image, templates, facts, kiln: { recorded: r.kiln.version, current }, summary };
}

/**
 * The run start a re-run repeats on each host (lib/validation/deployments.ts deploymentStartSchema),
 * from the record alone, so a record re-runs after its run is gone: the pinned image version,
 * template versions (an image deploy's built-in boot template is Kiln's, at its current version),
 * vars and options. Every choice is explicit, so the new host's boot settings add nothing.
 */
export function startSpecOf(r: RunRecordDocument): Record<string, unknown> {
  const system = r.templates.find((t) => t.role === "system");
  const unattended = r.templates.find((t) => t.role === "unattended");
  return {
    action: r.run.action,
    ...(r.image ? { imageId: r.image.id, imageVersion: r.image.version } : {}),
    ...(r.run.action === "install" && system ? { systemTemplateId: system.id, systemTemplateVersion: system.version } : {}),
    unattendedTemplateId: unattended?.id ?? null,
    ...(unattended ? { unattendedTemplateVersion: unattended.version } : {}),
    vars: r.vars,
    ...(r.options.disk ? { disk: r.options.disk } : {}),
    ...(r.options.wipeFirst ? { wipeFirst: true } : {}),
    postInstall: r.options.postInstall,
  };
}

/** For the re-run: the record (readable by the actor) and the document. */
export async function getRecordForRerun(db: Db, actor: Actor, id: string): Promise<{ row: RunRecordRow; record: RunRecordDocument }> {
  const { row } = await getReadableRecord(db, actor, id);
  return { row, record: documentOf(row) };
}

/**
 * The hosts the record's page offers for a re-run: those of the actor's active leases, by lease
 * (a re-run deploys to one lease's hosts); an administrator also gets the record's own host while
 * someone holds it (administrators act for holders).
 */
export async function listRerunHosts(db: Db, actor: Actor, recordId: string): Promise<{ hostId: string; name: string; leaseId: string }[]> {
  if (!actor.user) return [];
  const { row } = await getReadableRecord(db, actor, recordId);
  const leaseIds = await listActiveLeaseIdsOfUser(db, actor.user.id);
  const out = (await listLeaseHostRows(db, leaseIds)).filter((h) => !h.releasedAt).map((h) => ({ hostId: h.hostId, name: h.name, leaseId: h.leaseId }));
  if (isAdmin(actor) && row.hostId && !out.some((h) => h.hostId === row.hostId)) {
    const lease = await getActiveLeaseOfHost(db, row.hostId);
    const host = lease ? await getHostRow(db, row.hostId) : undefined;
    if (lease && host) out.unshift({ hostId: host.id, name: host.name, leaseId: lease.leaseId });
  }
  return out;
}
