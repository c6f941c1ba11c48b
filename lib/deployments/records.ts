// The experiment record of a run (issue 16 item 5): what makes it repeatable, frozen in the
// transaction that creates the run, so a run never exists without its record. The record is
// plain JSON with its own sha256 (of the canonical JSON: keys sorted, no whitespace), kept at a
// permanent URL after the run, its host or its lease are gone, readable by the project's
// members and, once a leader publishes it, by anyone (a paper's DOI points at it).
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { getLatestHostFactVersion } from "@/db/queries/host-facts";
import { getActiveLeaseOfHost, getHostRow, listInterfaces } from "@/db/queries/hosts";
import { getImageRow, getImageVersionRow } from "@/db/queries/images";
import { getLeaseRow, listActiveLeaseIdsOfUser, listLeaseHostRows } from "@/db/queries/leases";
import { getMembership } from "@/db/queries/projects";
import { getRerunOfRecordId, getRunRecordRow, insertRunRecord, listRerunRecordIds, listRunRecordRows, publishRunRecordRow, updateRunRecordOutcome } from "@/db/queries/run-records";
import { getTemplateRow, getTemplateVersion } from "@/db/queries/templates";
import type { DeploymentRow, DiskFact, HostFactSnapshot, HostRow, RunRecordRow } from "@/db/schema";
import type { Db, DbOrTx } from "../db";
import { getEnv } from "../env";
import { AppError } from "../errors";
import { isAdmin, type Actor } from "../access/actor";
import { recordAudit } from "../audit/audit";
import { nowOf, type Clock } from "../clock";
import { diffFacts } from "../hosts/facts-diff";
import { snapshotOf } from "../hosts/facts";
import { assertHostHolder } from "../access/hosts";
import { canReadShared } from "../access/sharing";
import { projectPath } from "../runtime/project-root";
import { paginated } from "../validation/common";
import { parseInput } from "../validation/parse";
import { recordDiffQuerySchema, recordListQuerySchema } from "../validation/records";

export const RUN_RECORD_SCHEMA_VERSION = 1;
const NOT_FOUND = "That run record does not exist, or you may not see it.";

/** What a record keeps of the machine: the fact version's snapshot, without the BMC's address (a published record must not hand out the management network). */
export type RecordedFacts = {
  version: number | null;
  recordedAt: string | null;
  source: "commission" | "deploy" | "host";
  snapshot: HostFactSnapshot;
};

export type RunRecordDocument = {
  schemaVersion: number;
  kiln: { version: string };
  run: { id: string; action: "install" | "deploy_image"; createdAt: string };
  host: { id: string; name: string; macs: string[] };
  image: { id: string; name: string; version: number; sha256: string | null; sizeBytes: number; format: string | null } | null;
  templates: { role: "system" | "unattended"; id: string; name: string; builtinKey: string | null; version: number; sha256: string }[];
  /** sha256 of the text the run serves, as stored: the one-time token is never in it, only the run's placeholder. */
  rendered: { systemSha256: string | null; unattendedSha256: string | null };
  vars: Record<string, unknown>;
  options: { disk: string | null; wipeFirst: boolean; postInstall: { gitUrl: string; ref: string; path: string; kind: string } | null };
  /** The kernel line of the rendered iPXE script, as text (iPXE variables such as ${base} left as written; the token as `<token>`). */
  kernel: { image: string; commandLine: string } | null;
  facts: RecordedFacts | null;
};

export type DeploymentOutcome = { state: DeploymentRow["state"]; finishedAt: string | null; failureReason: string | null; durationSeconds: number | null };

let kilnVersion: string | undefined;
function getKilnVersion(): string {
  kilnVersion ??= (JSON.parse(readFileSync(projectPath("package.json"), "utf8")) as { version: string }).version;
  return kilnVersion;
}

/** JSON with keys sorted at every level and no whitespace: the same record always hashes the same, whatever order PostgreSQL's jsonb gives back. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? "null" : canonicalJson(v))).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** Options of iPXE's kernel command that take a value (`--name x`); the others stand alone. */
const KERNEL_OPTIONS_WITH_VALUE = new Set(["--name", "-n", "--timeout", "-t"]);

/**
 * The first `kernel` (iPXE) or `linux` line of a boot script: the kernel it loads and its
 * command line, whitespace collapsed. `placeholder`: the run's token placeholder, shown as
 * `<token>` so command lines of two runs compare. Null when the script loads no kernel.
 */
export function parseKernelCommandLine(script: string | null, placeholder?: string | null): { image: string; commandLine: string } | null {
  if (!script) return null;
  for (const raw of script.split(/\r?\n/)) {
    const m = /^\s*(?:kernel|linux)\s+(.+)$/.exec(raw);
    if (!m) continue;
    // `kernel … || goto failed`: the command line ends where iPXE's control operators begin.
    const text = m[1]!.split(/\s(?:\|\||&&)\s/)[0]!;
    const words = text.trim().split(/\s+/);
    let i = 0;
    while (i < words.length && words[i]!.startsWith("-")) i += KERNEL_OPTIONS_WITH_VALUE.has(words[i]!) ? 2 : 1;
    if (i >= words.length) continue;
    let commandLine = words.slice(i + 1).join(" ");
    if (placeholder) commandLine = commandLine.split(placeholder).join("<token>");
    return { image: words[i]!, commandLine };
  }
  return null;
}

/** The parts of a fact snapshot a record keeps (everything but the BMC's address and Kiln's own bookkeeping). */
function recordableSnapshot(s: HostFactSnapshot): HostFactSnapshot {
  const { bmc: _bmc, commissionedAt: _at, ...facts } = (s.facts ?? {}) as Record<string, unknown>;
  return { cpuCores: s.cpuCores ?? null, memoryMb: s.memoryMb ?? null, disks: (s.disks ?? []) as DiskFact[], facts };
}

/** Which runs get a record: the holder's installs and image deploys (a capture reads a disk into an image version, which keeps its own sha256; wipes and commissioning repeat nothing). */
export function isRecordedDeployment(run: Pick<DeploymentRow, "origin" | "action">): boolean {
  return run.origin === "holder" && (run.action === "install" || run.action === "deploy_image");
}

async function recordedFactsOf(tx: DbOrTx, host: HostRow): Promise<RecordedFacts> {
  const latest = await getLatestHostFactVersion(tx, host.id);
  if (latest) return { version: latest.version, recordedAt: latest.recordedAt.toISOString(), source: latest.source, snapshot: recordableSnapshot(latest.snapshot) };
  // Never inventoried: what an administrator entered on the host, unnumbered.
  return { version: null, recordedAt: null, source: "host", snapshot: recordableSnapshot(snapshotOf(host)) };
}

/** Builds the record of a run from what it pinned, in the caller's transaction. */
export async function buildRunRecord(tx: DbOrTx, run: DeploymentRow): Promise<RunRecordDocument> {
  const host = await getHostRow(tx, run.hostId);
  if (!host) throw new Error(`host ${run.hostId} of run ${run.id} is missing`);
  const ifaces = await listInterfaces(tx, [host.id]);

  let image: RunRecordDocument["image"] = null;
  if (run.imageId && run.imageVersion) {
    const [img, v] = await Promise.all([getImageRow(tx, run.imageId), getImageVersionRow(tx, { imageId: run.imageId, version: run.imageVersion })]);
    if (img && v) image = { id: img.id, name: img.name, version: v.version, sha256: v.sha256, sizeBytes: v.sizeBytes, format: v.format };
  }

  const templates: RunRecordDocument["templates"] = [];
  for (const [role, id, version] of [
    ["system", run.systemTemplateId, run.systemTemplateVersion],
    ["unattended", run.unattendedTemplateId, run.unattendedTemplateVersion],
  ] as const) {
    if (!id || !version) continue;
    const [t, v] = await Promise.all([getTemplateRow(tx, id), getTemplateVersion(tx, { templateId: id, version })]);
    if (t && v) templates.push({ role, id, name: t.name, builtinKey: t.builtinKey, version, sha256: sha256Hex(v.source) });
  }

  const pi = run.options.postInstall;
  return {
    schemaVersion: RUN_RECORD_SCHEMA_VERSION,
    kiln: { version: getKilnVersion() },
    run: { id: run.id, action: run.action as "install" | "deploy_image", createdAt: run.createdAt.toISOString() },
    host: { id: host.id, name: host.name, macs: ifaces.map((i) => i.mac) },
    image,
    templates,
    rendered: {
      systemSha256: run.renderedSystem === null ? null : sha256Hex(run.renderedSystem),
      unattendedSha256: run.renderedUnattended === null ? null : sha256Hex(run.renderedUnattended),
    },
    vars: run.vars,
    options: { disk: run.options.disk ?? null, wipeFirst: run.options.wipeFirst === true, postInstall: pi ? { gitUrl: pi.gitUrl, ref: pi.ref, path: pi.path, kind: pi.kind } : null },
    kernel: parseKernelCommandLine(run.renderedSystem, run.tokenPlaceholder),
    facts: await recordedFactsOf(tx, host),
  };
}

/**
 * Freezes the record of a run that was just inserted (createDeployment calls it in the run's
 * transaction). Only runs isRecordedDeployment names get one.
 */
export async function recordDeployment(tx: DbOrTx, run: DeploymentRow): Promise<RunRecordRow | null> {
  if (!isRecordedDeployment(run)) return null;
  const record = await buildRunRecord(tx, run);
  const lease = run.leaseId ? await getLeaseRow(tx, run.leaseId) : undefined;
  return insertRunRecord(tx, {
    deploymentId: run.id,
    hostId: run.hostId,
    projectId: lease?.projectId ?? null,
    userId: run.userId,
    record,
    recordSha256: sha256Hex(canonicalJson(record)),
    createdAt: run.createdAt,
  });
}

/** The outcome of a finished run, as its record keeps it (finishDeployment calls it with the run's row after the change). */
export function outcomeOf(run: DeploymentRow): DeploymentOutcome {
  const started = run.startedAt ?? run.createdAt;
  return {
    state: run.state,
    finishedAt: run.finishedAt?.toISOString() ?? null,
    failureReason: run.failureReason,
    durationSeconds: run.finishedAt ? Math.max(0, Math.round((run.finishedAt.getTime() - started.getTime()) / 1000)) : null,
  };
}

/** Fills the record's outcome when its run ends; a run without a record is left alone. */
export async function recordDeploymentOutcome(tx: DbOrTx, run: DeploymentRow): Promise<void> {
  if (!isRecordedDeployment(run)) return;
  await updateRunRecordOutcome(tx, run.id, outcomeOf(run));
}

export function recordUrl(id: string): string {
  return `${getEnv().baseUrl}/records/${id}`;
}

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
