import { asc, count, eq, sql } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { hosts, pools, type PoolRow } from "../schema";

export async function insertPool(db: DbOrTx, values: typeof pools.$inferInsert): Promise<PoolRow> {
  const [row] = await db.insert(pools).values(values).returning();
  return row!;
}

export async function updatePoolRow(db: DbOrTx, id: string, values: Partial<typeof pools.$inferInsert>) {
  const [row] = await db.update(pools).set({ ...values, updatedAt: new Date() }).where(eq(pools.id, id)).returning();
  return row;
}

export async function deletePoolRow(db: DbOrTx, id: string): Promise<boolean> {
  return (await db.delete(pools).where(eq(pools.id, id)).returning({ id: pools.id })).length > 0;
}

export async function getPoolRow(db: DbOrTx, id: string): Promise<PoolRow | undefined> {
  const [row] = await db.select().from(pools).where(eq(pools.id, id)).limit(1);
  return row;
}

/** Pools with host counts: total and available (what a researcher can lease now). */
export async function listPoolsWithCounts(db: DbOrTx) {
  return db
    .select({
      pool: pools,
      total: count(hosts.id),
      available: sql<number>`count(${hosts.id}) filter (where ${hosts.state} = 'available')`.mapWith(Number),
    })
    .from(pools)
    .leftJoin(hosts, eq(hosts.poolId, pools.id))
    .groupBy(pools.id)
    .orderBy(asc(pools.name));
}

export async function countPoolHosts(db: DbOrTx, poolId: string): Promise<number> {
  const [r] = await db.select({ n: count() }).from(hosts).where(eq(hosts.poolId, poolId));
  return r?.n ?? 0;
}
