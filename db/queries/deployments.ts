import { and, asc, count, desc, eq, gt, inArray, lte, sql } from "drizzle-orm";
import { historyEmailOf } from "./users";
import type { DbOrTx } from "../client";
import { deploymentEvents, deploymentLogs, deployments, deploymentSteps, hosts, users, type DeploymentRow, type DeploymentStepRow } from "../schema";

/** The NOTIFY channel of deployment events; the payload is `{"h": hostId, "id": eventId}`. */
export const DEPLOYMENT_EVENTS_CHANNEL = "kiln_deployment_events";

export async function getDeploymentRow(db: DbOrTx, id: string, opts: { lock?: boolean } = {}): Promise<DeploymentRow | undefined> {
  const q = db.select().from(deployments).where(eq(deployments.id, id)).limit(1);
  const [row] = opts.lock ? await q.for("update") : await q;
  return row;
}

export async function insertSteps(db: DbOrTx, rows: (typeof deploymentSteps.$inferInsert)[]): Promise<DeploymentStepRow[]> {
  if (rows.length === 0) return [];
  return db.insert(deploymentSteps).values(rows).returning();
}

export async function listSteps(db: DbOrTx, deploymentIds: string[]): Promise<DeploymentStepRow[]> {
  if (deploymentIds.length === 0) return [];
  return db.select().from(deploymentSteps).where(inArray(deploymentSteps.deploymentId, deploymentIds)).orderBy(asc(deploymentSteps.deploymentId), asc(deploymentSteps.position));
}

export async function updateStepRow(db: DbOrTx, id: string, values: Partial<typeof deploymentSteps.$inferInsert> & { attempts?: number | ReturnType<typeof sql> }) {
  const [row] = await db.update(deploymentSteps).set(values).where(eq(deploymentSteps.id, id)).returning();
  return row;
}

/** Running steps of active runs whose deadline has passed (of one run, or of all). */
export async function listOverdueSteps(db: DbOrTx, params: { now: Date; deploymentId?: string; limit?: number }) {
  return db
    .select({ step: deploymentSteps, deploymentId: deployments.id })
    .from(deploymentSteps)
    .innerJoin(deployments, eq(deployments.id, deploymentSteps.deploymentId))
    .where(
      and(
        eq(deploymentSteps.state, "running"),
        lte(deploymentSteps.timeoutAt, params.now),
        inArray(deployments.state, ["pending", "running"]),
        params.deploymentId ? eq(deployments.id, params.deploymentId) : undefined,
      ),
    )
    .orderBy(asc(deploymentSteps.timeoutAt))
    .limit(params.limit ?? 200);
}

export async function insertLogs(db: DbOrTx, rows: { deploymentId: string; source: string; line: string; at: Date }[]) {
  if (rows.length === 0) return [];
  return db.insert(deploymentLogs).values(rows).returning();
}

export async function listLogs(db: DbOrTx, params: { deploymentId: string; afterId?: number; limit: number }) {
  // The newest `limit` lines after the cursor, returned oldest first.
  const rows = await db
    .select()
    .from(deploymentLogs)
    .where(and(eq(deploymentLogs.deploymentId, params.deploymentId), params.afterId ? gt(deploymentLogs.id, params.afterId) : undefined))
    .orderBy(desc(deploymentLogs.id))
    .limit(params.limit);
  return rows.reverse();
}

export async function countLogs(db: DbOrTx, deploymentId: string): Promise<number> {
  const [row] = await db.select({ n: count() }).from(deploymentLogs).where(eq(deploymentLogs.deploymentId, deploymentId));
  return row?.n ?? 0;
}

/**
 * Appends one event of a host's feed and announces it. The per-host transaction lock makes
 * ids commit in order for each host, so a reader that has seen id N never later finds a
 * smaller id appear; NOTIFY is delivered at commit.
 */
export async function insertDeploymentEvent(db: DbOrTx, params: { hostId: string; deploymentId: string; kind: string; data: Record<string, unknown>; at: Date }) {
  await db.execute(sql`select pg_advisory_xact_lock(hashtext('kiln-deployment-events'), hashtext(${params.hostId}))`);
  const [row] = await db.insert(deploymentEvents).values(params).returning({ id: deploymentEvents.id });
  await db.execute(sql`select pg_notify(${DEPLOYMENT_EVENTS_CHANNEL}, ${JSON.stringify({ h: params.hostId, id: row!.id })})`);
  return row!.id;
}

export async function listEventsAfter(db: DbOrTx, params: { hostId: string; afterId: number; limit: number }) {
  return db
    .select()
    .from(deploymentEvents)
    .where(and(eq(deploymentEvents.hostId, params.hostId), gt(deploymentEvents.id, params.afterId)))
    .orderBy(asc(deploymentEvents.id))
    .limit(params.limit);
}

export async function lastEventId(db: DbOrTx, hostId: string): Promise<number> {
  const [row] = await db.select({ id: sql<number>`coalesce(max(${deploymentEvents.id}), 0)::bigint` }).from(deploymentEvents).where(eq(deploymentEvents.hostId, hostId));
  return Number(row?.id ?? 0);
}

/** A host's runs, newest first, with who started them and the names of their templates. */
export async function listDeploymentRows(db: DbOrTx, params: { hostId?: string; deploymentId?: string; limit: number; offset: number }) {
  const where = and(params.hostId ? eq(deployments.hostId, params.hostId) : undefined, params.deploymentId ? eq(deployments.id, params.deploymentId) : undefined);
  const rows = await db
    .select({
      deployment: deployments,
      hostName: hosts.name,
      userEmail: historyEmailOf<string | null>(),
      systemTemplateName: sql<string | null>`(select t.name from templates t where t.id = "deployments"."system_template_id")`,
      unattendedTemplateName: sql<string | null>`(select t.name from templates t where t.id = "deployments"."unattended_template_id")`,
    })
    .from(deployments)
    .innerJoin(hosts, eq(hosts.id, deployments.hostId))
    .leftJoin(users, eq(users.id, deployments.userId))
    .where(where)
    .orderBy(desc(deployments.createdAt), desc(deployments.id))
    .limit(params.limit)
    .offset(params.offset);
  const [total] = await db.select({ n: count() }).from(deployments).where(where);
  return { rows, total: total?.n ?? 0 };
}

export async function getLatestDeployment(db: DbOrTx, hostId: string): Promise<DeploymentRow | undefined> {
  const [row] = await db.select().from(deployments).where(eq(deployments.hostId, hostId)).orderBy(desc(deployments.createdAt), desc(deployments.id)).limit(1);
  return row;
}

/** The latest run of each (host, lease) pair asked for, with the step it is at (lists show a badge). */
export async function getLatestDeploymentsOfLeases(db: DbOrTx, pairs: { hostId: string; leaseId: string }[]) {
  if (pairs.length === 0) return [];
  return db
    .selectDistinctOn([deployments.hostId, deployments.leaseId], {
      hostId: deployments.hostId,
      leaseId: deployments.leaseId,
      id: deployments.id,
      state: deployments.state,
      action: deployments.action,
      origin: deployments.origin,
      failureReason: deployments.failureReason,
      bytesWritten: deployments.bytesWritten,
      totalBytes: deployments.totalBytes,
      rateBytesPerSecond: deployments.rateBytesPerSecond,
      // Spelled out: inside a select list drizzle leaves columns unqualified, and a bare "id"
      // in the subquery would name the step's own id.
      currentStep: sql<string | null>`(select s.name from deployment_steps s where s.deployment_id = "deployments"."id" and s.state in ('pending', 'running') order by s.position limit 1)`,
    })
    .from(deployments)
    .where(
      and(
        inArray(deployments.hostId, pairs.map((p) => p.hostId)),
        inArray(deployments.leaseId, pairs.map((p) => p.leaseId)),
        eq(deployments.origin, "holder"),
      ),
    )
    .orderBy(deployments.hostId, deployments.leaseId, desc(deployments.createdAt), desc(deployments.id));
}
