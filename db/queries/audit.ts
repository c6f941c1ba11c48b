import { and, count, desc, eq, gte, ilike, lte, or, type SQL } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { auditLog } from "../schema";

export async function insertAudit(db: DbOrTx, values: typeof auditLog.$inferInsert): Promise<void> {
  await db.insert(auditLog).values(values);
}

export async function listAudit(
  db: DbOrTx,
  params: { actor?: string; action?: string; targetType?: string; targetId?: string; from?: Date; to?: Date; limit: number; offset: number },
) {
  const conds: SQL[] = [];
  if (params.actor) conds.push(ilike(auditLog.actorEmail, `%${params.actor.replace(/[\\%_]/g, (c) => `\\${c}`)}%`));
  if (params.action) conds.push(or(eq(auditLog.action, params.action), ilike(auditLog.action, `${params.action.replace(/[\\%_]/g, (c) => `\\${c}`)}.%`))!);
  if (params.targetType) conds.push(eq(auditLog.targetType, params.targetType));
  if (params.targetId) conds.push(eq(auditLog.targetId, params.targetId));
  if (params.from) conds.push(gte(auditLog.at, params.from));
  if (params.to) conds.push(lte(auditLog.at, params.to));
  const where = conds.length ? and(...conds) : undefined;
  const rows = await db.select().from(auditLog).where(where).orderBy(desc(auditLog.at), desc(auditLog.id)).limit(params.limit).offset(params.offset);
  const [t] = await db.select({ n: count() }).from(auditLog).where(where);
  return { rows, total: t?.n ?? 0 };
}
