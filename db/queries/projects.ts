import { and, asc, count, eq, inArray, isNull, sql } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { leaseHosts, leases, projectMembers, projects, reservations, users, type ProjectRow } from "../schema";

export async function insertProject(db: DbOrTx, values: typeof projects.$inferInsert): Promise<ProjectRow> {
  const [row] = await db.insert(projects).values(values).returning();
  return row!;
}

export async function updateProjectRow(db: DbOrTx, id: string, values: Partial<typeof projects.$inferInsert>) {
  const [row] = await db.update(projects).set({ ...values, updatedAt: new Date() }).where(eq(projects.id, id)).returning();
  return row;
}

export async function deleteProjectRow(db: DbOrTx, id: string): Promise<boolean> {
  return (await db.delete(projects).where(eq(projects.id, id)).returning({ id: projects.id })).length > 0;
}

export async function getProjectRow(db: DbOrTx, id: string): Promise<ProjectRow | undefined> {
  const [row] = await db.select().from(projects).where(eq(projects.id, id)).limit(1);
  return row;
}

/** Locks the project row: lease grants of one project are serialised, so quota checks cannot race. */
export async function lockProject(db: DbOrTx, id: string): Promise<ProjectRow | undefined> {
  const [row] = await db.select().from(projects).where(eq(projects.id, id)).for("update").limit(1);
  return row;
}

export async function listProjectRows(db: DbOrTx, params: { memberId?: string }) {
  const q = db.select().from(projects);
  if (params.memberId) {
    return q
      .where(inArray(projects.id, db.select({ id: projectMembers.projectId }).from(projectMembers).where(eq(projectMembers.userId, params.memberId))))
      .orderBy(asc(projects.name));
  }
  return q.orderBy(asc(projects.name));
}

export async function getMembership(db: DbOrTx, params: { projectId: string; userId: string }) {
  const [row] = await db
    .select()
    .from(projectMembers)
    .where(and(eq(projectMembers.projectId, params.projectId), eq(projectMembers.userId, params.userId)))
    .limit(1);
  return row;
}

export async function listMemberships(db: DbOrTx, userId: string) {
  return db
    .select({ projectId: projectMembers.projectId, role: projectMembers.role, name: projects.name })
    .from(projectMembers)
    .innerJoin(projects, eq(projects.id, projectMembers.projectId))
    .where(eq(projectMembers.userId, userId))
    .orderBy(asc(projects.name));
}

export async function listMembers(db: DbOrTx, projectId: string) {
  return db
    .select({ userId: users.id, email: users.email, name: users.name, role: projectMembers.role, addedAt: projectMembers.addedAt })
    .from(projectMembers)
    .innerJoin(users, eq(users.id, projectMembers.userId))
    .where(eq(projectMembers.projectId, projectId))
    .orderBy(asc(users.email));
}

export async function upsertMember(db: DbOrTx, values: typeof projectMembers.$inferInsert) {
  await db
    .insert(projectMembers)
    .values(values)
    .onConflictDoUpdate({ target: [projectMembers.projectId, projectMembers.userId], set: { role: values.role } });
}

export async function deleteMember(db: DbOrTx, params: { projectId: string; userId: string }): Promise<boolean> {
  const rows = await db
    .delete(projectMembers)
    .where(and(eq(projectMembers.projectId, params.projectId), eq(projectMembers.userId, params.userId)))
    .returning({ userId: projectMembers.userId });
  return rows.length > 0;
}

export async function countActiveProjectHosts(db: DbOrTx, projectId: string): Promise<number> {
  const [r] = await db
    .select({ n: count() })
    .from(leaseHosts)
    .innerJoin(leases, eq(leases.id, leaseHosts.leaseId))
    .where(and(eq(leases.projectId, projectId), isNull(leaseHosts.releasedAt)));
  return r?.n ?? 0;
}

/**
 * Node-hours a project uses or has booked inside [from, to): each host's time in a lease,
 * up to its release, or up to the lease's end while it is still held; and its scheduled
 * reservations' hosts × their time.
 */
export async function projectNodeHours(db: DbOrTx, params: { projectId: string; from: Date; to: Date }): Promise<number> {
  const rows = await db.execute<{ hours: string | null }>(sql`
    select sum(extract(epoch from (
      least(coalesce(${leaseHosts.releasedAt}, ${leases.endsAt}), ${params.to.toISOString()}::timestamptz)
      - greatest(${leaseHosts.addedAt}, ${params.from.toISOString()}::timestamptz)
    )) / 3600) as hours
    from ${leaseHosts} join ${leases} on ${leases.id} = ${leaseHosts.leaseId}
    where ${leases.projectId} = ${params.projectId}
      and ${leaseHosts.addedAt} < ${params.to.toISOString()}::timestamptz
      and coalesce(${leaseHosts.releasedAt}, ${leases.endsAt}) > ${params.from.toISOString()}::timestamptz`);
  // Scheduled reservations are booked time too, from the moment their hosts are taken
  // (prepare_from); once started, their lease's hosts are counted above instead.
  const booked = await db.execute<{ hours: string | null }>(sql`
    select sum(${reservations.count} * extract(epoch from (
      least(${reservations.endsAt}, ${params.to.toISOString()}::timestamptz)
      - greatest(${reservations.prepareFrom}, ${params.from.toISOString()}::timestamptz)
    )) / 3600) as hours
    from ${reservations}
    where ${reservations.projectId} = ${params.projectId} and ${reservations.state} = 'scheduled'
      and ${reservations.prepareFrom} < ${params.to.toISOString()}::timestamptz
      and ${reservations.endsAt} > ${params.from.toISOString()}::timestamptz`);
  return Number(rows[0]?.hours ?? 0) + Number(booked[0]?.hours ?? 0);
}
