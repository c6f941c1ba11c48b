import { countPoolHosts, deletePoolRow, getPoolRow, insertPool, listPoolsWithCounts, updatePoolRow } from "@/db/queries/pools";
import { isUniqueViolation } from "@/db/errors";
import type { Db } from "../db";
import { AppError } from "../errors";
import { assertAdmin, type Actor } from "../access/actor";
import { recordAudit } from "../audit/audit";
import { poolCreateSchema, poolUpdateSchema } from "../validation/pools";
import { parseInput } from "../validation/parse";

const ADMIN_ONLY = "Only administrators can change pools.";

function mapPoolError(e: unknown, name?: string): never {
  if (isUniqueViolation(e)) throw AppError.field("name", `A pool named ${name} already exists.`);
  throw e;
}

/** Everyone sees pools, their policy and how many hosts are free: that is what they lease from. */
export async function listPools(db: Db) {
  const rows = await listPoolsWithCounts(db);
  return rows.map((r) => ({ ...r.pool, hostCount: r.total, availableCount: r.available }));
}

export async function getPool(db: Db, id: string) {
  const pool = await getPoolRow(db, id);
  if (!pool) throw new AppError("not_found", "That pool does not exist.");
  return { ...pool, hostCount: await countPoolHosts(db, id) };
}

export async function createPool(db: Db, actor: Actor, input: unknown) {
  assertAdmin(actor, ADMIN_ONLY);
  const data = parseInput(poolCreateSchema, input);
  try {
    return await db.transaction(async (tx) => {
      const pool = await insertPool(tx, data);
      await recordAudit(tx, actor, { action: "pool.create", targetType: "pool", targetId: pool.id, summary: `created pool ${pool.name}`, data });
      return pool;
    });
  } catch (e) {
    mapPoolError(e, data.name);
  }
}

export async function updatePool(db: Db, actor: Actor, id: string, input: unknown) {
  assertAdmin(actor, ADMIN_ONLY);
  const data = parseInput(poolUpdateSchema, input);
  try {
    return await db.transaction(async (tx) => {
      const before = await getPoolRow(tx, id);
      if (!before) throw new AppError("not_found", "That pool does not exist.");
      const merged = { ...before, ...data };
      if (merged.defaultLeaseHours > merged.maxLeaseHours) throw AppError.field("defaultLeaseHours", "The default duration cannot exceed the maximum.");
      const pool = (await updatePoolRow(tx, id, data))!;
      await recordAudit(tx, actor, { action: "pool.update", targetType: "pool", targetId: id, summary: `updated pool ${pool.name}${data.endGraceMinutes !== undefined && data.endGraceMinutes !== before.endGraceMinutes ? ` (grace after a lease ends: ${before.endGraceMinutes} → ${data.endGraceMinutes} minutes)` : ""}`, data });
      return pool;
    });
  } catch (e) {
    mapPoolError(e, data.name);
  }
}

/** Deleting a pool leaves its hosts outside any pool (they can then only be allocated directly). */
export async function deletePool(db: Db, actor: Actor, id: string): Promise<void> {
  assertAdmin(actor, ADMIN_ONLY);
  await db.transaction(async (tx) => {
    const pool = await getPoolRow(tx, id);
    if (!pool) throw new AppError("not_found", "That pool does not exist.");
    await deletePoolRow(tx, id);
    await recordAudit(tx, actor, { action: "pool.delete", targetType: "pool", targetId: id, summary: `deleted pool ${pool.name}` });
  });
}
