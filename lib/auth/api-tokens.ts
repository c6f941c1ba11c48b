// Personal access tokens: `kiln_pat_<256-bit secret>`, shown once, stored as sha256.
import { getApiTokenByHash, insertApiToken, listApiTokens, revokeApiToken, touchApiToken } from "@/db/queries/auth";
import { getUserByEmail, getUserById } from "@/db/queries/users";
import type { UserRow } from "@/db/schema";
import type { DbOrTx } from "../db";
import { AppError } from "../errors";
import { getUserStatus } from "../users/user-view";
import { apiTokenCreateSchema } from "../validation/accounts";
import { parseInput } from "../validation/parse";
import { API_TOKEN_PREFIX, generateSecret, hashSecret } from "./secrets";

export async function createApiToken(db: DbOrTx, userId: string, input: unknown) {
  const data = parseInput(apiTokenCreateSchema, input);
  const token = generateSecret(API_TOKEN_PREFIX);
  const row = await insertApiToken(db, {
    userId,
    name: data.name,
    tokenHash: hashSecret(token),
    prefix: token.slice(0, API_TOKEN_PREFIX.length + 6),
    expiresAt: data.expiresInDays ? new Date(Date.now() + data.expiresInDays * 86400_000) : null,
  });
  return { token, id: row.id, name: row.name, expiresAt: row.expiresAt };
}

export function getApiTokens(db: DbOrTx, userId: string) {
  return listApiTokens(db, userId);
}

export async function revokeOwnApiToken(db: DbOrTx, userId: string, tokenId: string): Promise<void> {
  if (!(await revokeApiToken(db, { userId, id: tokenId }))) throw new AppError("not_found", "That token does not exist or is already revoked.");
}

const INVALID = "The access token is not valid (unknown, revoked or expired).";

/** Resolves a bearer token to its user; a disabled user's tokens stop working at once. */
export async function authenticateApiToken(db: DbOrTx, token: string): Promise<UserRow> {
  if (!token.startsWith(API_TOKEN_PREFIX)) throw new AppError("unauthorized", INVALID);
  const row = await getApiTokenByHash(db, hashSecret(token));
  if (!row || row.revokedAt || (row.expiresAt && row.expiresAt.getTime() <= Date.now())) {
    throw new AppError("unauthorized", INVALID);
  }
  const user = await getUserById(db, row.userId);
  if (!user || getUserStatus(user) !== "active") throw new AppError("unauthorized", "This account is disabled or not active.");
  // Only a coarse "last used": one write per token per minute at most.
  if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() > 60_000) await touchApiToken(db, row.id);
  return user;
}

/** For the CLI: a token for the account with this email. */
export async function createApiTokenForEmail(db: DbOrTx, email: string, input: unknown) {
  const user = await getUserByEmail(db, email);
  if (!user) throw new AppError("not_found", `No account has the email ${email || "(none given: use --email)"}.`);
  return createApiToken(db, user.id, input);
}
