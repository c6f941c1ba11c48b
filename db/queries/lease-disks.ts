import { and, asc, eq, inArray, isNull, ne, sql } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { leaseDisks, leaseHosts, type LeaseDiskRow, type LeaseDiskState } from "../schema";

/** The lease's host row while it holds the host (released_at null), locked against a concurrent release. */
export async function lockHeldLeaseHost(db: DbOrTx, p: { leaseId: string; hostId: string }) {
  const [row] = await db
    .select({ leaseId: leaseHosts.leaseId, hostId: leaseHosts.hostId })
    .from(leaseHosts)
    .where(and(eq(leaseHosts.leaseId, p.leaseId), eq(leaseHosts.hostId, p.hostId), isNull(leaseHosts.releasedAt)))
    .for("update");
  return row;
}

/** Disks of one host that are not wiped (creating, ready or wiping), by position. */
export async function listLiveHostDisks(db: DbOrTx, hostId: string): Promise<LeaseDiskRow[]> {
  return db
    .select()
    .from(leaseDisks)
    .where(and(eq(leaseDisks.hostId, hostId), ne(leaseDisks.state, "wiped")))
    .orderBy(asc(leaseDisks.position));
}

/** A lease's disks, newest history last; `live` leaves out the wiped ones. */
export async function listLeaseDiskRows(db: DbOrTx, p: { leaseId: string; hostId?: string; live?: boolean }): Promise<LeaseDiskRow[]> {
  return db
    .select()
    .from(leaseDisks)
    .where(and(eq(leaseDisks.leaseId, p.leaseId), p.hostId ? eq(leaseDisks.hostId, p.hostId) : undefined, p.live ? ne(leaseDisks.state, "wiped") : undefined))
    .orderBy(asc(leaseDisks.hostId), asc(leaseDisks.position), asc(leaseDisks.createdAt));
}

export async function getLeaseDiskRow(db: DbOrTx, id: string, options: { lock?: boolean } = {}): Promise<LeaseDiskRow | undefined> {
  const q = db.select().from(leaseDisks).where(eq(leaseDisks.id, id)).limit(1);
  const [row] = options.lock ? await q.for("update") : await q;
  return row;
}

export async function insertLeaseDisks(db: DbOrTx, values: (typeof leaseDisks.$inferInsert)[]): Promise<LeaseDiskRow[]> {
  if (values.length === 0) return [];
  return db.insert(leaseDisks).values(values).returning();
}

/** Moves a state forward only from the states given (a guarded update); the row, or undefined when it had moved on. */
export async function updateLeaseDiskFrom(
  db: DbOrTx,
  p: { id: string; from: LeaseDiskState[] },
  values: Partial<Pick<LeaseDiskRow, "state" | "exportAddress" | "exportPort" | "lastError" | "readyAt" | "wipeRequestedAt" | "wipedAt">>,
): Promise<LeaseDiskRow | undefined> {
  const [row] = await db
    .update(leaseDisks)
    .set(values)
    .where(and(eq(leaseDisks.id, p.id), inArray(leaseDisks.state, p.from)))
    .returning();
  return row;
}

export async function setLeaseDiskError(db: DbOrTx, id: string, message: string | null): Promise<void> {
  await db.update(leaseDisks).set({ lastError: message }).where(eq(leaseDisks.id, id));
}

/**
 * Marks `wiping` every live disk whose host is no longer held under its lease (released,
 * expired, or handed on without it): the reconciler then stops their exports and deletes the
 * files. Returns the rows it marked.
 */
export async function markOrphanDisksWiping(db: DbOrTx, at: Date, leaseId?: string): Promise<LeaseDiskRow[]> {
  return db
    .update(leaseDisks)
    .set({ state: "wiping", wipeRequestedAt: at })
    .where(
      and(
        inArray(leaseDisks.state, ["creating", "ready"]),
        leaseId ? eq(leaseDisks.leaseId, leaseId) : undefined,
        sql`not exists (select 1 from ${leaseHosts} where ${leaseHosts.leaseId} = ${leaseDisks.leaseId} and ${leaseHosts.hostId} = ${leaseDisks.hostId} and ${leaseHosts.releasedAt} is null)`,
      ),
    )
    .returning();
}

/** Rows the reconciler still has work for: creating, wiping, and ready ones (their exports). */
export async function listUnfinishedLeaseDisks(db: DbOrTx, p: { leaseId?: string; ids?: string[] } = {}): Promise<LeaseDiskRow[]> {
  return db
    .select()
    .from(leaseDisks)
    .where(and(ne(leaseDisks.state, "wiped"), p.leaseId ? eq(leaseDisks.leaseId, p.leaseId) : undefined, p.ids ? inArray(leaseDisks.id, p.ids) : undefined))
    .orderBy(asc(leaseDisks.createdAt));
}

/** The ready disks the host's templates get: those of its current lease only. */
export async function listTemplateDisksOfHost(db: DbOrTx, hostId: string): Promise<LeaseDiskRow[]> {
  return db
    .select({ disk: leaseDisks })
    .from(leaseDisks)
    .innerJoin(leaseHosts, and(eq(leaseHosts.leaseId, leaseDisks.leaseId), eq(leaseHosts.hostId, leaseDisks.hostId), isNull(leaseHosts.releasedAt)))
    .where(and(eq(leaseDisks.hostId, hostId), inArray(leaseDisks.state, ["creating", "ready"])))
    .orderBy(asc(leaseDisks.position))
    .then((rows) => rows.map((r) => r.disk));
}

/** A host handed to another lease keeps its disks: they move with it (same project). */
export async function moveLeaseDisks(db: DbOrTx, p: { hostId: string; fromLeaseId: string; toLeaseId: string }): Promise<number> {
  const rows = await db
    .update(leaseDisks)
    .set({ leaseId: p.toLeaseId })
    .where(and(eq(leaseDisks.hostId, p.hostId), eq(leaseDisks.leaseId, p.fromLeaseId), ne(leaseDisks.state, "wiped")))
    .returning({ id: leaseDisks.id });
  return rows.length;
}

// Storage use: a disk counts with its full size (the file is sparse, but it may fill) from the
// moment its row is written until it is wiped.

export async function userDiskBytes(db: DbOrTx, userId: string): Promise<number> {
  const [row] = await db
    .select({ n: sql<string>`coalesce(sum(${leaseDisks.sizeBytes}), 0)` })
    .from(leaseDisks)
    .where(and(eq(leaseDisks.createdByUserId, userId), ne(leaseDisks.state, "wiped")));
  return Number(row?.n ?? 0);
}

export async function projectDiskBytes(db: DbOrTx, projectId: string): Promise<number> {
  const [row] = await db
    .select({ n: sql<string>`coalesce(sum(${leaseDisks.sizeBytes}), 0)` })
    .from(leaseDisks)
    .where(and(eq(leaseDisks.projectId, projectId), ne(leaseDisks.state, "wiped")));
  return Number(row?.n ?? 0);
}
