import { createUserIfAbsent, hasAnyAdmin, lockAdminSet } from "@/db/queries/users";
import type { Db } from "../db";
import { AppError } from "../errors";
import { recordAudit } from "../audit/audit";
import { hashPassword } from "../auth/password";
import { hashPasswordForDirectory, markDirectoryEntry, requestDirectorySync } from "../directory/mark";
import { assertPasswordAllowed } from "../auth/password-policy";
import { firstAdminSchema } from "../validation/accounts";
import { parseInput } from "../validation/parse";
import { absoluteUrl, SETUP_LINK_HOURS } from "./links";
import { checkOneTimeToken, issueOneTimeToken, redeemOneTimeToken } from "./one-time-links";

/**
 * On a database with no admin, issues a fresh one-time setup link (voiding earlier ones)
 * and returns its URL; returns null once an admin exists. Called at every start.
 */
export async function ensureSetupLink(db: Db): Promise<string | null> {
  return db.transaction(async (tx) => {
    await lockAdminSet(tx);
    if (await hasAnyAdmin(tx)) return null;
    const token = await issueOneTimeToken(tx, { purpose: "first_admin", userId: null, ttlMs: SETUP_LINK_HOURS * 3600_000 });
    return absoluteUrl(`/setup/${token}`);
  });
}

export async function checkSetupLink(db: Db, token: string): Promise<void> {
  if (await hasAnyAdmin(db)) throw new AppError("gone", "Kiln already has an administrator; this setup link is no longer needed. Sign in instead.");
  await checkOneTimeToken(db, "first_admin", token);
}

export async function createFirstAdmin(db: Db, input: unknown): Promise<{ id: string; email: string }> {
  const data = parseInput(firstAdminSchema, input);
  await assertPasswordAllowed("password", data.password, { email: data.email, name: data.name });
  const passwordHash = await hashPassword(data.password);
  const created = await db.transaction(async (tx) => {
    await lockAdminSet(tx);
    if (await hasAnyAdmin(tx)) throw new AppError("gone", "Kiln already has an administrator; this setup link is no longer needed.");
    await redeemOneTimeToken(tx, "first_admin", data.token);
    const now = new Date();
    const user = await createUserIfAbsent(tx, {
      email: data.email,
      name: data.name,
      passwordHash,
      directoryPasswordHash: hashPasswordForDirectory(data.password),
      role: "admin",
      emailVerifiedAt: now,
      approvedAt: now,
    });
    if (!user) throw AppError.field("email", "An account with this email already exists; choose another address for the administrator.");
    await recordAudit(tx, { user, ip: null }, { action: "user.first_admin", targetType: "user", targetId: user.id, summary: `created the first administrator ${user.email} with the setup link` });
    await markDirectoryEntry(tx, user);
    return { id: user.id, email: user.email };
  });
  await requestDirectorySync();
  return created;
}
