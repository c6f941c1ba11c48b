import { deleteSessionsOfUser } from "@/db/queries/auth";
import { listOutboxMail } from "@/db/queries/outbox";
import { countActiveAdmins, getUserById, listUsers, lockAdminSet, updateUser } from "@/db/queries/users";
import type { UserRow } from "@/db/schema";
import type { Db } from "../db";
import { AppError } from "../errors";
import { actorOf, recordAudit } from "../audit/audit";
import type { RequestContext } from "../http/context";
import { sendMail } from "../mail/send";
import { accountApprovedMail } from "../mail/templates";
import { userAdminUpdateSchema, userListQuerySchema } from "../validation/accounts";
import { paginated } from "../validation/common";
import { parseInput } from "../validation/parse";
import { absoluteUrl } from "./links";
import { getUserStatus, toPublicUser, type PublicUser } from "./user-view";

/** `?q=&filter=&page=&per_page=`, answered as `{ data, pagination }` like every list. */
export async function searchUsers(db: Db, query: unknown) {
  const q = parseInput(userListQuerySchema, query);
  const { rows, total } = await listUsers(db, {
    search: q.q,
    filter: q.filter,
    limit: q.per_page,
    offset: (q.page - 1) * q.per_page,
  });
  return paginated(rows.map(toPublicUser), q, total);
}

/**
 * Changes role, disabled state or approval. Disabling deletes the user's sessions in the
 * same transaction (tokens are refused by status at use), so access ends at once.
 * The last active admin cannot demote or disable themselves out of existence.
 */
export async function updateUserAsAdmin(db: Db, actor: UserRow, userId: string, input: unknown, ctx: RequestContext | null = null): Promise<PublicUser> {
  const data = parseInput(userAdminUpdateSchema, input);
  const { user, approvedNow } = await db.transaction(async (tx) => {
    await lockAdminSet(tx);
    const target = await getUserById(tx, userId);
    if (!target) throw new AppError("not_found", "That user does not exist.");
    const losesAdmin =
      target.role === "admin" && !target.disabledAt && (data.role === "user" || data.disabled === true);
    if (losesAdmin && (await countActiveAdmins(tx)) <= 1) {
      throw new AppError("conflict", "This is the last active administrator; make someone else an administrator first.");
    }
    if (target.id === actor.id && data.disabled) throw new AppError("conflict", "You cannot disable your own account.");
    const approvedNow = data.approved === true && !target.approvedAt;
    const updated = await updateUser(tx, target.id, {
      ...(data.role ? { role: data.role } : {}),
      ...(data.disabled === undefined ? {} : { disabledAt: data.disabled ? (target.disabledAt ?? new Date()) : null }),
      ...(approvedNow ? { approvedAt: new Date() } : {}),
    });
    if (data.disabled) await deleteSessionsOfUser(tx, target.id);
    const changes = [
      data.role && data.role !== target.role ? `role ${target.role} → ${data.role}` : "",
      data.disabled === true && !target.disabledAt ? "disabled" : "",
      data.disabled === false && target.disabledAt ? "enabled" : "",
      approvedNow ? "approved" : "",
    ].filter(Boolean);
    if (changes.length) {
      await recordAudit(tx, actorOf(actor, ctx), { action: "user.update", targetType: "user", targetId: target.id, summary: `${target.email}: ${changes.join(", ")}`, data });
    }
    return { user: updated!, approvedNow };
  });
  if (approvedNow && getUserStatus(user) === "active") {
    // The approval stands even if this mail fails; the person can simply sign in.
    await sendMail(db, accountApprovedMail(user.email, absoluteUrl("/signin"))).catch(() => {});
  }
  return toPublicUser(user);
}

export async function getOutbox(db: Db, page: number) {
  const pageSize = 50;
  const { rows, total } = await listOutboxMail(db, { limit: pageSize, offset: (Math.max(1, page) - 1) * pageSize });
  return { mails: rows, total, page, pageSize };
}
