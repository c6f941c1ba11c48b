import { and, asc, desc, eq, inArray, isNotNull, isNull, sql } from "drizzle-orm";
import { historyEmailOf } from "./users";
import type { DbOrTx } from "../client";
import { deploymentGroups, deployments, hosts, leaseHosts, leases, reservationHosts, users, type DeploymentGroupRow } from "../schema";

export async function insertDeploymentGroup(db: DbOrTx, values: typeof deploymentGroups.$inferInsert): Promise<DeploymentGroupRow> {
  const [row] = await db.insert(deploymentGroups).values(values).returning();
  return row!;
}

export async function deleteDeploymentGroup(db: DbOrTx, id: string): Promise<void> {
  await db.delete(deploymentGroups).where(eq(deploymentGroups.id, id));
}

export async function getDeploymentGroupRow(db: DbOrTx, id: string) {
  const [row] = await db
    .select({ group: deploymentGroups, userEmail: historyEmailOf<string | null>(), leaseUserId: leases.userId })
    .from(deploymentGroups)
    .leftJoin(users, eq(users.id, deploymentGroups.userId))
    .leftJoin(leases, eq(leases.id, deploymentGroups.leaseId))
    .where(eq(deploymentGroups.id, id))
    .limit(1);
  return row;
}

/** The newest group a reservation started ("ready at the start"). */
export async function getLatestGroupOfReservation(db: DbOrTx, reservationId: string): Promise<DeploymentGroupRow | undefined> {
  const [row] = await db.select().from(deploymentGroups).where(eq(deploymentGroups.reservationId, reservationId)).orderBy(desc(deploymentGroups.createdAt)).limit(1);
  return row;
}

/** The newest group each of these reservations started, by reservation id (the page links its progress). */
export async function listLatestGroupIdsOfReservations(db: DbOrTx, reservationIds: string[]): Promise<Map<string, string>> {
  if (reservationIds.length === 0) return new Map();
  const rows = await db
    .selectDistinctOn([deploymentGroups.reservationId], { reservationId: deploymentGroups.reservationId, id: deploymentGroups.id })
    .from(deploymentGroups)
    .where(inArray(deploymentGroups.reservationId, reservationIds))
    .orderBy(deploymentGroups.reservationId, desc(deploymentGroups.createdAt));
  return new Map(rows.map((r) => [r.reservationId!, r.id]));
}

/** Every run of a group, oldest first, with its host's name and the step it is at. */
export async function listGroupDeployments(db: DbOrTx, groupId: string) {
  return db
    .select({
      id: deployments.id,
      hostId: deployments.hostId,
      hostName: hosts.name,
      state: deployments.state,
      failureReason: deployments.failureReason,
      bytesWritten: deployments.bytesWritten,
      totalBytes: deployments.totalBytes,
      createdAt: deployments.createdAt,
      startedAt: deployments.startedAt,
      finishedAt: deployments.finishedAt,
      currentStep: sql<string | null>`(select s.name from deployment_steps s where s.deployment_id = "deployments"."id" and s.state in ('pending', 'running') order by s.position limit 1)`,
    })
    .from(deployments)
    .innerJoin(hosts, eq(hosts.id, deployments.hostId))
    .where(eq(deployments.groupId, groupId))
    .orderBy(asc(deployments.createdAt), asc(hosts.name), asc(deployments.id));
}

/** Names of hosts, and whether the lease still holds each. */
export async function listGroupHosts(db: DbOrTx, p: { hostIds: string[]; leaseId: string | null }) {
  if (p.hostIds.length === 0) return [];
  return db
    .select({ id: hosts.id, name: hosts.name, held: sql<boolean>`${leaseHosts.hostId} is not null` })
    .from(hosts)
    .leftJoin(leaseHosts, and(eq(leaseHosts.hostId, hosts.id), p.leaseId ? eq(leaseHosts.leaseId, p.leaseId) : sql`false`, isNull(leaseHosts.releasedAt)))
    .where(inArray(hosts.id, p.hostIds));
}

/**
 * Failed group runs still worth a retry: the latest run of their host in the group, with fewer
 * runs there than the group allows, on a host its lease still holds (the sweep's list).
 */
export async function listGroupDeploymentsToRetry(db: DbOrTx, limit = 100): Promise<string[]> {
  const rows = await db.execute<{ id: string }>(sql`
    select r.id from (
      select d.id, d.state, d.host_id, d.lease_id, g.max_attempts,
             row_number() over (partition by d.group_id, d.host_id order by d.created_at desc, d.id desc) as nth,
             count(*) over (partition by d.group_id, d.host_id) as attempts
      from ${deployments} d join ${deploymentGroups} g on g.id = d.group_id
      where d.group_id is not null
    ) r
    join ${leaseHosts} lh on lh.host_id = r.host_id and lh.lease_id = r.lease_id and lh.released_at is null
    where r.nth = 1 and r.state = 'failed' and r.attempts < r.max_attempts
    limit ${limit}`);
  return rows.map((r) => r.id);
}

/**
 * Seconds from the start of each finished (done) powered run of an action to its end, newest
 * first, with what it used: the deploy lead's samples (lib/reservations/ready.ts).
 */
export async function listDoneDeploymentDurations(
  db: DbOrTx,
  p: { action: "install" | "deploy_image"; imageId?: string; systemTemplateId?: string; unattendedTemplateId?: string | null; limit: number },
) {
  const match =
    p.action === "deploy_image"
      ? eq(deployments.imageId, p.imageId ?? "00000000-0000-0000-0000-000000000000")
      : p.unattendedTemplateId
        ? eq(deployments.unattendedTemplateId, p.unattendedTemplateId)
        : eq(deployments.systemTemplateId, p.systemTemplateId ?? "00000000-0000-0000-0000-000000000000");
  return db
    .select({
      hostId: deployments.hostId,
      imageVersion: deployments.imageVersion,
      systemTemplateVersion: deployments.systemTemplateVersion,
      unattendedTemplateVersion: deployments.unattendedTemplateVersion,
      seconds: sql<number>`extract(epoch from (${deployments.finishedAt} - ${deployments.startedAt}))::float8`,
    })
    .from(deployments)
    .where(
      and(
        eq(deployments.action, p.action),
        eq(deployments.state, "done"),
        isNotNull(deployments.startedAt),
        isNotNull(deployments.finishedAt),
        // A mark's run waits for a person to restart the machine: not a measure of the deploy.
        sql`coalesce((${deployments.options} ->> 'power')::boolean, true)`,
        match,
      ),
    )
    .orderBy(desc(deployments.finishedAt))
    .limit(p.limit);
}

/** A reservation's current hosts (not replaced), with names. */
export async function listReservationHostNames(db: DbOrTx, reservationId: string) {
  return db
    .select({ hostId: hosts.id, name: hosts.name })
    .from(reservationHosts)
    .innerJoin(hosts, eq(hosts.id, reservationHosts.hostId))
    .where(and(eq(reservationHosts.reservationId, reservationId), isNull(reservationHosts.replacedAt)))
    .orderBy(asc(hosts.name));
}
