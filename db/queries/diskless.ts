import { and, eq, isNull } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { disklessRoots, type DisklessRootRow } from "../schema";

/** The host's live diskless root (at most one: a partial unique index). */
export async function getLiveDisklessRoot(db: DbOrTx, hostId: string): Promise<DisklessRootRow | undefined> {
  const [row] = await db.select().from(disklessRoots).where(and(eq(disklessRoots.hostId, hostId), isNull(disklessRoots.releasedAt)));
  return row;
}

export async function listLiveDisklessRoots(db: DbOrTx): Promise<DisklessRootRow[]> {
  return db.select().from(disklessRoots).where(isNull(disklessRoots.releasedAt));
}

export async function insertDisklessRoot(db: DbOrTx, row: typeof disklessRoots.$inferInsert): Promise<DisklessRootRow> {
  const [r] = await db.insert(disklessRoots).values(row).returning();
  return r!;
}

export async function updateDisklessRoot(db: DbOrTx, id: string, set: Partial<typeof disklessRoots.$inferInsert>): Promise<DisklessRootRow | undefined> {
  const [r] = await db.update(disklessRoots).set(set).where(eq(disklessRoots.id, id)).returning();
  return r;
}
