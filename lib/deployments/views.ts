// Deployment views, what reads: one deployment with its steps, progress and log lines, a held
// host's list, the dashboard's summaries. Nothing here changes state (./commands.ts does).
import { getDeploymentConsole } from "@/db/queries/consoles";
import { countLogs, getDeploymentRow, getLatestDeploymentsOfLeases, lastEventId, listDeploymentRows, listLogs, listSteps } from "@/db/queries/deployments";
import { getHostRow } from "@/db/queries/hosts";
import type { DeploymentRow, DeploymentStepRow } from "@/db/schema";
import type { Db, DbOrTx } from "../db";
import { AppError } from "../errors";
import { isAdmin, type Actor } from "../access/actor";
import { assertHostHolder } from "../access/hosts";
import { provisioningStateOf, isActiveDeployment } from "../hosts/state-machine";
import { paginated } from "../validation/common";
import { deploymentGetQuerySchema, deploymentListQuerySchema } from "../validation/deployments";
import { parseInput } from "../validation/parse";
import { stepLabel } from "./engine";
import { cannotRestartReason } from "../power/drivers";
import { ACTION_LABELS } from "./plan";
import { getRunRecordIdOfDeployment } from "@/db/queries/run-records";

const LOG_LINES = 500;
export const DEPLOYMENT_NOT_FOUND = "That deployment does not exist.";

/**
 * A run the actor may see: admins any; others the runs of hosts they hold now, and only
 * while they hold them (like the host itself). Anyone else gets 404.
 */
export async function getVisibleDeployment(db: DbOrTx, actor: Actor, deploymentId: string): Promise<DeploymentRow> {
  const d = await getDeploymentRow(db, deploymentId);
  if (!d) throw new AppError("not_found", DEPLOYMENT_NOT_FOUND);
  try {
    await assertHostHolder(db, actor, d.hostId);
  } catch {
    throw new AppError("not_found", DEPLOYMENT_NOT_FOUND);
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
  const active = isActiveDeployment(d.state);
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
  const d = await getVisibleDeployment(db, actor, deploymentId);
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

export type LatestDeploymentSummary = {
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
export async function summarizeDeployments(db: DbOrTx, pairs: { hostId: string; leaseId: string }[]): Promise<Map<string, LatestDeploymentSummary>> {
  const rows = await getLatestDeploymentsOfLeases(db, pairs);
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
          step: r.currentStep && isActiveDeployment(r.state) ? stepLabel(r.currentStep) : null,
          percent: isActiveDeployment(r.state) && r.totalBytes ? Math.min(100, Math.round((r.bytesWritten / r.totalBytes) * 100)) : null,
          rate: isActiveDeployment(r.state) && r.rateBytesPerSecond ? r.rateBytesPerSecond : null,
          etaSeconds:
            isActiveDeployment(r.state) && r.totalBytes && r.rateBytesPerSecond ? Math.max(0, Math.round((r.totalBytes - r.bytesWritten) / r.rateBytesPerSecond)) : null,
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

