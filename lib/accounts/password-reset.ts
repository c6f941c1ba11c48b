import { deleteSessionsOfUser, revokeApiTokensOfUser } from "@/db/queries/auth";
import { getUserByEmail, getUserById, updateUser } from "@/db/queries/users";
import type { Db } from "../db";
import { getEnv } from "../env";
import { AppError } from "../errors";
import { recordAudit } from "../audit/audit";
import { hashPassword } from "../auth/password";
import { hashPasswordForDirectory, markDirectoryEntry, requestDirectorySync } from "../directory/mark";
import { assertPasswordAllowed } from "../auth/password-policy";
import { enforceRateLimits } from "../auth/rate-limit";
import type { RequestContext } from "../http/context";
import { sendMail } from "../mail/send";
import { resetPasswordMail } from "../mail/templates";
import { resetPasswordSchema, resetRequestSchema } from "../validation/accounts";
import { parseInput } from "../validation/parse";
import { absoluteUrl, RESET_LINK_MINUTES } from "./links";
import { describeRevocations, type PasswordChangeResult } from "./profile";
import { issueOneTimeToken, redeemOneTimeToken } from "./one-time-links";

/**
 * Mails a reset link when the address belongs to an active local account. The answer
 * is the same whether or not it does, so the form does not reveal who has an account.
 */
export async function requestPasswordReset(db: Db, input: unknown, ctx: RequestContext): Promise<void> {
  const env = getEnv();
  const { email } = parseInput(resetRequestSchema, input);
  await enforceRateLimits(db, [
    { key: `reset:ip:${ctx.ip}`, limit: env.KILN_RATE_LIMIT_RESET_PER_IP, what: "password reset requests from your address" },
    { key: `reset:email:${email}`, limit: env.KILN_RATE_LIMIT_RESET_PER_ACCOUNT, what: "password reset requests for this account" },
  ]);
  await db.transaction(async (tx) => {
    const user = await getUserByEmail(tx, email);
    if (!user || user.disabledAt || user.authSource !== "local") return;
    const token = await issueOneTimeToken(tx, {
      purpose: "reset_password",
      userId: user.id,
      ttlMs: RESET_LINK_MINUTES * 60_000,
    });
    await sendMail(tx, resetPasswordMail(email, absoluteUrl(`/reset-password/${token}`), RESET_LINK_MINUTES));
  });
}

/**
 * Sets the new password and ends every session of the account (whoever had it is out); API
 * tokens are revoked too when asked (`revokeTokens`). A refused password leaves the link usable.
 */
export async function resetPassword(db: Db, input: unknown, ctx?: RequestContext): Promise<{ email: string } & PasswordChangeResult> {
  const data = parseInput(resetPasswordSchema, input);
  const passwordHash = await hashPassword(data.password);
  const directoryPasswordHash = hashPasswordForDirectory(data.password);
  const outcome = await db.transaction(async (tx) => {
    const now = new Date();
    const row = await redeemOneTimeToken(tx, "reset_password", data.token);
    const user = row.userId ? await getUserById(tx, row.userId) : undefined;
    if (!user || user.disabledAt) throw new AppError("not_found", "This password reset link is not valid.");
    // Thrown inside the transaction, so the link is not spent.
    await assertPasswordAllowed("password", data.password, user);
    // Following the mailed link proves the address, so an unverified account becomes verified.
    const updated = await updateUser(tx, user.id, { passwordHash, emailVerifiedAt: user.emailVerifiedAt ?? now, ...(directoryPasswordHash ? { directoryPasswordHash } : {}) });
    const syncDirectory = await markDirectoryEntry(tx, updated!);
    const result = {
      endedSessions: await deleteSessionsOfUser(tx, user.id),
      revokedTokens: data.revokeTokens ? await revokeApiTokensOfUser(tx, { userId: user.id, at: now }) : 0,
    };
    await recordAudit(tx, { user, ip: ctx?.ip ?? null }, {
      action: "user.password.reset",
      targetType: "user",
      targetId: user.id,
      summary: `${user.email} reset their password with a mailed link; ${describeRevocations(result)}`,
      data: { ...result, revokeTokens: data.revokeTokens },
    });
    return { value: { email: user.email, ...result }, syncDirectory };
  });
  if (outcome.syncDirectory) await requestDirectorySync();
  return outcome.value;
}
