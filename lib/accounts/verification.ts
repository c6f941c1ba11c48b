import { getUserById, updateUser } from "@/db/queries/users";
import type { Db } from "../db";
import { AppError } from "../errors";
import { getUserStatus, type UserStatus } from "../users/user-view";
import { redeemOneTimeToken } from "./one-time-links";
import { markDirectoryEntry, requestDirectorySync } from "../directory/mark";

/** Spends a verification link; returns what the account can do next (sign in, or wait for approval). */
export async function verifyEmail(db: Db, token: string): Promise<{ email: string; status: UserStatus }> {
  const { result, syncDirectory } = await db.transaction(async (tx) => {
    const row = await redeemOneTimeToken(tx, "verify_email", token);
    const user = row.userId ? await getUserById(tx, row.userId) : undefined;
    if (!user) throw new AppError("not_found", "This verification link is not valid.");
    const updated = user.emailVerifiedAt ? user : (await updateUser(tx, user.id, { emailVerifiedAt: new Date() }))!;
    // Verified and (with open registration) approved: the person's directory entry is due.
    const syncDirectory = updated !== user && (await markDirectoryEntry(tx, updated));
    return { result: { email: updated.email, status: getUserStatus(updated) }, syncDirectory };
  });
  if (syncDirectory) await requestDirectorySync();
  return result;
}
