import { and, desc, eq, sql } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { deployments, hostFactVersions, type HostFactSnapshot, type HostFactSource, type HostFactVersionRow } from "../schema";

/**
 * Records a version of a host's facts. One row per run: the same run reporting again (its
 * machine rebooted into it) replaces its own row's snapshot and keeps its number. A new row
 * takes the host's next number; the caller holds the run's lock, and a host has one active
 * run at a time, so two new rows of one host do not race (the unique index would refuse it).
 */
export async function recordHostFactVersion(
  db: DbOrTx,
  p: { hostId: string; snapshot: HostFactSnapshot; source: HostFactSource; deploymentId: string | null; at: Date },
): Promise<HostFactVersionRow> {
  const [row] = await db
    .insert(hostFactVersions)
    .values({
      hostId: p.hostId,
      version: sql`(select coalesce(max(${hostFactVersions.version}), 0) + 1 from ${hostFactVersions} where ${hostFactVersions.hostId} = ${p.hostId})`,
      snapshot: p.snapshot,
      source: p.source,
      deploymentId: p.deploymentId,
      recordedAt: p.at,
    })
    .onConflictDoUpdate({
      target: hostFactVersions.deploymentId,
      targetWhere: sql`${hostFactVersions.deploymentId} is not null`,
      set: { snapshot: p.snapshot, recordedAt: p.at },
    })
    .returning();
  return row!;
}

export async function getLatestHostFactVersion(db: DbOrTx, hostId: string): Promise<HostFactVersionRow | undefined> {
  const [row] = await db.select().from(hostFactVersions).where(eq(hostFactVersions.hostId, hostId)).orderBy(desc(hostFactVersions.version)).limit(1);
  return row;
}

/** A host's versions, newest first. */
export async function listHostFactVersions(db: DbOrTx, hostId: string, limit = 20): Promise<HostFactVersionRow[]> {
  return db.select().from(hostFactVersions).where(eq(hostFactVersions.hostId, hostId)).orderBy(desc(hostFactVersions.version)).limit(limit);
}

/** Whether a host ever had a run of any kind (commissioning on arrival happens only before the first). */
export async function hasAnyDeployment(db: DbOrTx, hostId: string): Promise<boolean> {
  const [row] = await db.select({ id: deployments.id }).from(deployments).where(and(eq(deployments.hostId, hostId))).limit(1);
  return Boolean(row);
}
