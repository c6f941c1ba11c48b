import { deleteSessionsOfUser } from "@/db/queries/auth";
import { listOutboxMail } from "@/db/queries/outbox";
import { countActiveAdmins, countOpenBookingsOfUser, deleteUserRow, getUserById, hasBookingHistory, listUsers, lockAdminSet, tombstoneUser, updateUser } from "@/db/queries/users";
import type { UserRow } from "@/db/schema";
import type { Db } from "../db";
import { isForeignKeyViolation } from "@/db/errors";
import { AppError } from "../errors";
import { actorOf } from "../access/actor";
import { recordAudit } from "../audit/audit";
import { markDirectoryEntry, requestDirectorySync } from "../directory/mark";
import type { RequestContext } from "../http/context";
import { sendMail } from "../mail/send";
import { accountApprovedMail } from "../mail/templates";
import { userAdminUpdateSchema, userListQuerySchema } from "../validation/accounts";
import { paginated } from "../validation/common";
import { parseInput } from "../validation/parse";
import { absoluteUrl } from "./links";
import { DELETED_USER_LABEL, getUserStatus, toPublicUser, type PublicUser } from "../users/user-view";

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
  const { user, approvedNow, syncDirectory } = await db.transaction(async (tx) => {
    await lockAdminSet(tx);
    const target = await getUserById(tx, userId);
    if (!target) throw new AppError("not_found", "That user does not exist.");
    if (target.deletedAt) throw new AppError("conflict", DELETED_ACCOUNT_UNCHANGEABLE);
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
    // Approved, disabled or enabled: the directory entry appears, is locked or unlocked with it.
    const syncDirectory = getUserStatus(updated!) !== getUserStatus(target) && (await markDirectoryEntry(tx, updated!));
    return { user: updated!, approvedNow, syncDirectory };
  });
  if (syncDirectory) await requestDirectorySync();
  if (approvedNow && getUserStatus(user) === "active") {
    // The approval stands even if this mail fails; the person can simply sign in.
    await sendMail(db, accountApprovedMail(user.email, absoluteUrl("/signin"))).catch(() => {});
  }
  return toPublicUser(user);
}

const DELETED_ACCOUNT_UNCHANGEABLE = "This account was deleted; it cannot be changed. The person can register again as a new account.";

/** A non-deliverable address (RFC 2606 .invalid) unique to the account, freeing the real one. */
export function placeholderEmailOf(userId: string): string {
  return `deleted-${userId.replace(/-/g, "")}@deleted.invalid`;
}

/**
 * Deletes an account. Refused for oneself, for the last active administrator, and while the
 * person holds leases or has reservations not yet over (release or cancel them first).
 * An account whose past leases or reservations name it (leases.user_id and reservations.user_id
 * restrict deletion, so the history stays whole) becomes a tombstone instead, as GitLab's ghost
 * user or Foreman's anonymised owners: personal data scrubbed, credentials, sessions, tokens,
 * keys and memberships gone, VPN devices revoked, status "deleted"; the history then shows
 * "Deleted user". Others are deleted for good. Either way the directory entry Kiln wrote is
 * marked absent in the same transaction, and the audit entry keeps the original email: the
 * audit log is the record of who the account was.
 */
export async function deleteUserAsAdmin(
  db: Db,
  actor: UserRow,
  userId: string,
  ctx: RequestContext | null = null,
): Promise<{ outcome: "deleted" | "anonymised" }> {
  const { syncDirectory, outcome } = await db.transaction(async (tx) => {
    await lockAdminSet(tx);
    const target = await getUserById(tx, userId);
    if (!target) throw new AppError("not_found", "That user does not exist.");
    if (target.deletedAt) throw new AppError("conflict", "This account was already deleted.");
    if (target.id === actor.id) throw new AppError("conflict", "You cannot delete your own account.");
    if (target.role === "admin" && !target.disabledAt && (await countActiveAdmins(tx)) <= 1) {
      throw new AppError("conflict", "This is the last active administrator; make someone else an administrator first.");
    }
    const open = await countOpenBookingsOfUser(tx, target.id);
    if (open.leases || open.reservations) {
      const what = [
        open.leases ? `${open.leases} active lease${open.leases === 1 ? "" : "s"}` : "",
        open.reservations ? `${open.reservations} upcoming or running reservation${open.reservations === 1 ? "" : "s"}` : "",
      ].filter(Boolean).join(" and ");
      throw new AppError("conflict", `${target.email} holds ${what}: release or cancel ${open.leases + open.reservations === 1 ? "it" : "them"} first.`);
    }
    const auditData = { email: target.email, name: target.name, role: target.role, authSource: target.authSource, ldapUsername: target.ldapUsername };
    if (await hasBookingHistory(tx, target.id)) {
      const tombstone = await tombstoneUser(tx, { id: target.id, placeholderEmail: placeholderEmailOf(target.id), name: DELETED_USER_LABEL, at: new Date() });
      const syncDirectory = await markDirectoryEntry(tx, tombstone!, { deleted: true });
      await recordAudit(tx, actorOf(actor, ctx), {
        action: "user.delete",
        targetType: "user",
        targetId: target.id,
        summary: `deleted ${target.role} ${target.email} (personal data removed; kept as "${DELETED_USER_LABEL}" for the history of their leases and reservations)`,
        data: { ...auditData, anonymised: true },
      });
      return { syncDirectory, outcome: "anonymised" as const };
    }
    const syncDirectory = await markDirectoryEntry(tx, target, { deleted: true });
    await recordAudit(tx, actorOf(actor, ctx), { action: "user.delete", targetType: "user", targetId: target.id, summary: `deleted ${target.role} ${target.email}`, data: auditData });
    try {
      await deleteUserRow(tx, target.id);
    } catch (e) {
      // Another table that restricts deletion was added without teaching hasBookingHistory about it.
      if (!isForeignKeyViolation(e)) throw e;
      throw new AppError("conflict", `${target.email} is still named by records that keep the account from being deleted; disable the account instead.`);
    }
    return { syncDirectory, outcome: "deleted" as const };
  });
  if (syncDirectory) await requestDirectorySync();
  return { outcome };
}

export async function getOutbox(db: Db, page: number) {
  const pageSize = 50;
  const { rows, total } = await listOutboxMail(db, { limit: pageSize, offset: (Math.max(1, page) - 1) * pageSize });
  return { mails: rows, total, page, pageSize };
}
