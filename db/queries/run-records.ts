import { and, count, desc, eq, inArray, isNotNull, isNull, or, type SQL } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { deploymentGroups, deployments, projectMembers, runRecords, type RunRecordRow } from "../schema";

export async function insertRunRecord(db: DbOrTx, values: typeof runRecords.$inferInsert): Promise<RunRecordRow> {
  const [row] = await db.insert(runRecords).values(values).returning();
  return row!;
}

export async function getRunRecordRow(db: DbOrTx, id: string): Promise<RunRecordRow | undefined> {
  const [row] = await db.select().from(runRecords).where(eq(runRecords.id, id)).limit(1);
  return row;
}

export async function getRunRecordIdOfDeployment(db: DbOrTx, deploymentId: string): Promise<string | null> {
  const [row] = await db.select({ id: runRecords.id }).from(runRecords).where(eq(runRecords.deploymentId, deploymentId)).limit(1);
  return row?.id ?? null;
}

/** Sets the outcome of the record of a run, if that run has one (not every run does). */
export async function updateRunRecordOutcome(db: DbOrTx, deploymentId: string, outcome: Record<string, unknown>): Promise<void> {
  await db.update(runRecords).set({ outcome }).where(eq(runRecords.deploymentId, deploymentId));
}

/** First publication only: a record's published_at never moves, so a DOI's landing date stays true. */
export async function publishRunRecordRow(db: DbOrTx, id: string, at: Date): Promise<RunRecordRow | undefined> {
  await db.update(runRecords).set({ publishedAt: at }).where(and(eq(runRecords.id, id), isNull(runRecords.publishedAt)));
  return getRunRecordRow(db, id);
}

/**
 * Records newest first. `memberId`: only those of projects that user belongs to, or that user
 * ran, or published ones (a researcher's list); left out for administrators.
 */
export async function listRunRecordRows(db: DbOrTx, p: { hostId?: string; projectId?: string; memberId?: string; limit: number; offset: number }) {
  const visible: SQL | undefined = p.memberId
    ? or(
        inArray(runRecords.projectId, db.select({ id: projectMembers.projectId }).from(projectMembers).where(eq(projectMembers.userId, p.memberId))),
        eq(runRecords.userId, p.memberId),
        isNotNull(runRecords.publishedAt),
      )
    : undefined;
  const where = and(p.hostId ? eq(runRecords.hostId, p.hostId) : undefined, p.projectId ? eq(runRecords.projectId, p.projectId) : undefined, visible);
  const rows = await db.select().from(runRecords).where(where).orderBy(desc(runRecords.createdAt), desc(runRecords.id)).limit(p.limit).offset(p.offset);
  const [total] = await db.select({ n: count() }).from(runRecords).where(where);
  return { rows, total: total?.n ?? 0 };
}

/** The run record a run's group re-runs, if it was started by a re-run. */
export async function getRerunOfRecordId(db: DbOrTx, deploymentId: string): Promise<string | null> {
  const [row] = await db
    .select({ id: deploymentGroups.rerunOfRecordId })
    .from(deployments)
    .innerJoin(deploymentGroups, eq(deploymentGroups.id, deployments.groupId))
    .where(eq(deployments.id, deploymentId))
    .limit(1);
  return row?.id ?? null;
}

/** Records of runs started by re-running a record (through their group), newest first. */
export async function listRerunRecordIds(db: DbOrTx, recordId: string): Promise<string[]> {
  const rows = await db
    .select({ id: runRecords.id })
    .from(runRecords)
    .innerJoin(deployments, eq(deployments.id, runRecords.deploymentId))
    .innerJoin(deploymentGroups, eq(deploymentGroups.id, deployments.groupId))
    .where(eq(deploymentGroups.rerunOfRecordId, recordId))
    .orderBy(desc(runRecords.createdAt))
    .limit(50);
  return rows.map((r) => r.id);
}
