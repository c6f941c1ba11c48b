import { consumeOneTimeToken, getOneTimeToken, insertOneTimeToken, voidOneTimeTokens } from "@/db/queries/auth";
import type { OneTimeTokenPurpose } from "@/db/schema";
import type { DbOrTx } from "../db";
import { AppError } from "../errors";
import { generateSecret, hashSecret } from "../auth/secrets";
import { tokenParamSchema } from "../validation/accounts";

/** Issues a fresh single-use link secret, voiding earlier unused ones of the same purpose. */
export async function issueOneTimeToken(
  db: DbOrTx,
  params: { purpose: OneTimeTokenPurpose; userId: string | null; ttlMs: number },
): Promise<string> {
  await voidOneTimeTokens(db, { purpose: params.purpose, userId: params.userId });
  const token = generateSecret();
  await insertOneTimeToken(db, {
    purpose: params.purpose,
    userId: params.userId,
    tokenHash: hashSecret(token),
    expiresAt: new Date(Date.now() + params.ttlMs),
  });
  return token;
}

const WHAT: Record<OneTimeTokenPurpose, string> = {
  verify_email: "verification link",
  reset_password: "password reset link",
  first_admin: "setup link",
};

/**
 * Spends a link atomically (two concurrent uses: one wins). A refused link says
 * why — unknown, already used or expired — so the person knows what to do next.
 */
export async function redeemOneTimeToken(db: DbOrTx, purpose: OneTimeTokenPurpose, token: string) {
  const what = WHAT[purpose];
  if (!tokenParamSchema.safeParse(token).success) throw new AppError("not_found", `This ${what} is not valid.`);
  const tokenHash = hashSecret(token);
  const row = await consumeOneTimeToken(db, { purpose, tokenHash });
  if (row) return row;
  const known = await getOneTimeToken(db, { purpose, tokenHash });
  if (!known) throw new AppError("not_found", `This ${what} is not valid. Check that you copied the whole link.`);
  if (known.usedAt) throw new AppError("gone", `This ${what} has already been used.`);
  throw new AppError("gone", `This ${what} has expired or was replaced by a newer one.`);
}

/** Checks a link without spending it (to show the form behind it). */
export async function checkOneTimeToken(db: DbOrTx, purpose: OneTimeTokenPurpose, token: string) {
  const what = WHAT[purpose];
  if (!tokenParamSchema.safeParse(token).success) throw new AppError("not_found", `This ${what} is not valid.`);
  const known = await getOneTimeToken(db, { purpose, tokenHash: hashSecret(token) });
  if (!known) throw new AppError("not_found", `This ${what} is not valid. Check that you copied the whole link.`);
  if (known.usedAt) throw new AppError("gone", `This ${what} has already been used.`);
  if (known.expiresAt.getTime() <= Date.now()) throw new AppError("gone", `This ${what} has expired or was replaced by a newer one.`);
  return known;
}
