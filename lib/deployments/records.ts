// The experiment record of a run (issue 16 item 5): what makes it repeatable, frozen in the
// transaction that creates the run, so a run never exists without its record. The record is
// plain JSON with its own sha256 (of the canonical JSON: keys sorted, no whitespace), kept at a
// permanent URL after the run, its host or its lease are gone, readable by the project's
// members and, once a leader publishes it, by anyone (a paper's DOI points at it).
// Reading, listing, publishing and diffing records: ./record-access.ts.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { getLatestHostFactVersion } from "@/db/queries/host-facts";
import { getHostRow, listInterfaces } from "@/db/queries/hosts";
import { getImageRow, getImageVersionRow } from "@/db/queries/images";
import { getLeaseRow } from "@/db/queries/leases";
import { insertRunRecord, updateRunRecordOutcome } from "@/db/queries/run-records";
import { getTemplateRow, getTemplateVersion } from "@/db/queries/templates";
import type { DeploymentRow, DiskFact, HostFactSnapshot, HostRow, RunRecordRow } from "@/db/schema";
import type { DbOrTx } from "../db";
import { getEnv } from "../env";
import { snapshotOf } from "../hosts/facts";
import { projectPath } from "../runtime/project-root";

export const RUN_RECORD_SCHEMA_VERSION = 1;

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
export function getKilnVersion(): string {
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
export function recordableSnapshot(s: HostFactSnapshot): HostFactSnapshot {
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
