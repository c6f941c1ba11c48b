import { deleteSessionsOfUser, revokeApiTokensOfUser } from "@/db/queries/auth";
import { deleteSshKey, insertSshKey, listSshKeys, updateUser } from "@/db/queries/users";
import type { UserRow } from "@/db/schema";
import type { Db } from "../db";
import { AppError } from "../errors";
import { recordAudit } from "../audit/audit";
import { hashPassword, verifyPassword } from "../auth/password";
import { hashPasswordForDirectory, markDirectoryEntry, requestDirectorySync } from "../directory/mark";
import { assertPasswordAllowed } from "../auth/password-policy";
import type { RequestContext } from "../http/context";
import { changePasswordSchema, profileUpdateSchema, sshKeyAddSchema } from "../validation/accounts";
import { parseInput } from "../validation/parse";
import { parseSshPublicKey } from "./ssh-keys";

export type PasswordChangeResult = { endedSessions: number; revokedTokens: number };

/** "ended 2 other sessions, revoked 3 API tokens", for the audit log. */
export function describeRevocations(r: PasswordChangeResult, what = "session"): string {
  const parts = [`ended ${r.endedSessions} ${what}${r.endedSessions === 1 ? "" : "s"}`];
  if (r.revokedTokens) parts.push(`revoked ${r.revokedTokens} API token${r.revokedTokens === 1 ? "" : "s"}`);
  return parts.join(", ");
}

/**
 * Changes a local password. Every other session of the account is signed out (whoever else
 * had it is out), the caller's stays; API tokens are revoked too when asked (`revokeTokens`).
 */
export async function changePassword(
  db: Db,
  user: UserRow,
  input: unknown,
  opts: { keepSessionId?: string; ctx?: RequestContext } = {},
): Promise<PasswordChangeResult> {
  if (user.authSource !== "local" || !user.passwordHash) {
    throw new AppError("bad_request", "Your password is managed by the lab's directory (LDAP); change it there.");
  }
  const data = parseInput(changePasswordSchema, input);
  if (!(await verifyPassword(user.passwordHash, data.currentPassword))) {
    throw AppError.field("currentPassword", "This is not your current password.");
  }
  await assertPasswordAllowed("newPassword", data.newPassword, user);
  const passwordHash = await hashPassword(data.newPassword);
  const directoryPasswordHash = hashPasswordForDirectory(data.newPassword);
  const outcome = await db.transaction(async (tx) => {
    const now = new Date();
    const updated = await updateUser(tx, user.id, { passwordHash, ...(directoryPasswordHash ? { directoryPasswordHash } : {}) });
    const syncDirectory = await markDirectoryEntry(tx, updated!);
    const result = {
      endedSessions: await deleteSessionsOfUser(tx, user.id, opts.keepSessionId),
      revokedTokens: data.revokeTokens ? await revokeApiTokensOfUser(tx, { userId: user.id, at: now }) : 0,
    };
    await recordAudit(tx, { user, ip: opts.ctx?.ip ?? null }, {
      action: "user.password.change",
      targetType: "user",
      targetId: user.id,
      summary: `${user.email} changed their password; ${describeRevocations(result, "other session")}`,
      data: { ...result, revokeTokens: data.revokeTokens },
    });
    return { result, syncDirectory };
  });
  if (outcome.syncDirectory) await requestDirectorySync();
  return outcome.result;
}

export async function updateProfile(db: Db, user: UserRow, input: unknown): Promise<void> {
  const data = parseInput(profileUpdateSchema, input);
  // The name is the entry's cn/sn/givenName: the directory follows it.
  const syncDirectory = await db.transaction(async (tx) => {
    const updated = await updateUser(tx, user.id, { name: data.name });
    return updated && updated.name !== user.name ? markDirectoryEntry(tx, updated) : false;
  });
  if (syncDirectory) await requestDirectorySync();
}

export async function getSshKeys(db: Db, userId: string) {
  return listSshKeys(db, userId);
}

export async function addSshKey(db: Db, userId: string, input: unknown) {
  const { publicKey } = parseInput(sshKeyAddSchema, input);
  const parsed = parseSshPublicKey(publicKey);
  if ("error" in parsed) throw AppError.field("publicKey", parsed.error);
  const row = await insertSshKey(db, {
    userId,
    type: parsed.type,
    publicKey: parsed.publicKey,
    comment: parsed.comment,
    fingerprint: parsed.fingerprint,
  });
  if (!row) throw AppError.field("publicKey", "You have already added this key.");
  return row;
}

export async function removeSshKey(db: Db, userId: string, keyId: string): Promise<void> {
  if (!(await deleteSshKey(db, { userId, id: keyId }))) throw new AppError("not_found", "That key does not exist.");
}
