import { and, count, desc, eq, getTableColumns, gte, ilike, lte, or, sql, type SQL } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { auditLog, DELETED_USER_LABEL, users } from "../schema";

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
  // A deleted account's entries show "Deleted user" as their actor; the recorded email stays in
  // the row (and in the user.delete entry's summary), so searching by it still finds them.
  const rows = await db
    .select({
      ...getTableColumns(auditLog),
      actorEmail: sql<string | null>`case when ${users.deletedAt} is null then ${auditLog.actorEmail} else ${DELETED_USER_LABEL} end`,
    })
    .from(auditLog)
    .leftJoin(users, eq(users.id, auditLog.actorUserId))
    .where(where)
    .orderBy(desc(auditLog.at), desc(auditLog.id))
    .limit(params.limit)
    .offset(params.offset);
  const [t] = await db.select({ n: count() }).from(auditLog).where(where);
  return { rows, total: t?.n ?? 0 };
}
