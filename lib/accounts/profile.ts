import { deleteSessionsOfUser } from "@/db/queries/auth";
import { deleteSshKey, insertSshKey, listSshKeys, updateUser } from "@/db/queries/users";
import type { UserRow } from "@/db/schema";
import type { Db } from "../db";
import { AppError } from "../errors";
import { recordAudit } from "../audit/audit";
import { hashPassword, verifyPassword } from "../auth/password";
import { changePasswordSchema, profileUpdateSchema, sshKeyAddSchema } from "../validation/accounts";
import { parseInput } from "../validation/parse";
import { parseSshPublicKey } from "./ssh-keys";

/** Changes a local password; every other session of the account is signed out, the caller's stays. */
export async function changePassword(db: Db, user: UserRow, input: unknown, keepSessionId?: string): Promise<void> {
  if (user.authSource !== "local" || !user.passwordHash) {
    throw new AppError("bad_request", "Your password is managed by the lab's directory (LDAP); change it there.");
  }
  const data = parseInput(changePasswordSchema, input);
  if (!(await verifyPassword(user.passwordHash, data.currentPassword))) {
    throw AppError.field("currentPassword", "This is not your current password.");
  }
  const passwordHash = await hashPassword(data.newPassword);
  await db.transaction(async (tx) => {
    await updateUser(tx, user.id, { passwordHash });
    await deleteSessionsOfUser(tx, user.id, keepSessionId);
    await recordAudit(tx, { user, ip: null }, { action: "user.password.change", targetType: "user", targetId: user.id, summary: `${user.email} changed their password` });
  });
}

export async function updateProfile(db: Db, user: UserRow, input: unknown): Promise<void> {
  const data = parseInput(profileUpdateSchema, input);
  await updateUser(db, user.id, { name: data.name });
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
