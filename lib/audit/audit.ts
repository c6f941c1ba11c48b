// The audit log: every change to users, hosts, pools, projects and leases, written in
// the same transaction as the change (so there is no change without its entry).
import { insertAudit, listAudit } from "@/db/queries/audit";
import type { Actor } from "../access/actor";
import type { DbOrTx } from "../db";
import { auditListQuerySchema } from "../validation/audit";
import { paginated } from "../validation/common";
import { parseInput } from "../validation/parse";

export async function recordAudit(
  db: DbOrTx,
  actor: Actor,
  entry: { action: string; targetType: string; targetId?: string | null; summary: string; data?: Record<string, unknown> },
): Promise<void> {
  await insertAudit(db, {
    actorUserId: actor.user?.id ?? null,
    actorEmail: actor.user?.email ?? (actor.isSystem ? "system" : "anonymous"),
    actorIp: actor.ip,
    action: entry.action,
    targetType: entry.targetType,
    targetId: entry.targetId ?? null,
    summary: entry.summary,
    data: entry.data ?? {},
  });
}

export async function searchAudit(db: DbOrTx, query: unknown) {
  const q = parseInput(auditListQuerySchema, query);
  const { rows, total } = await listAudit(db, { ...q, limit: q.per_page, offset: (q.page - 1) * q.per_page });
  return paginated(rows, q, total);
}
