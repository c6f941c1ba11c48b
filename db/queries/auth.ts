import { and, asc, desc, eq, gt, inArray, isNull, lt, ne, or, sql } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { apiTokens, oneTimeTokens, rateLimits, signInFailures, userSessions, type OneTimeTokenPurpose } from "../schema";

// ---- browser sessions ----

export async function createSession(db: DbOrTx, values: typeof userSessions.$inferInsert) {
  const [row] = await db.insert(userSessions).values(values).returning();
  return row!;
}

export async function getLiveSession(db: DbOrTx, id: string) {
  const [row] = await db
    .select()
    .from(userSessions)
    .where(and(eq(userSessions.id, id), gt(userSessions.expiresAt, new Date())))
    .limit(1);
  return row;
}

export async function touchSession(db: DbOrTx, id: string): Promise<void> {
  await db.update(userSessions).set({ lastSeenAt: new Date() }).where(eq(userSessions.id, id));
}

export async function deleteSession(db: DbOrTx, id: string): Promise<void> {
  await db.delete(userSessions).where(eq(userSessions.id, id));
}

export async function deleteSessionsOfUser(db: DbOrTx, userId: string, exceptSessionId?: string): Promise<number> {
  const rows = await db
    .delete(userSessions)
    .where(and(eq(userSessions.userId, userId), exceptSessionId ? ne(userSessions.id, exceptSessionId) : undefined))
    .returning({ id: userSessions.id });
  return rows.length;
}

// ---- personal access tokens ----

export async function insertApiToken(db: DbOrTx, values: typeof apiTokens.$inferInsert) {
  const [row] = await db.insert(apiTokens).values(values).returning();
  return row!;
}

export async function getApiTokenByHash(db: DbOrTx, tokenHash: string) {
  const [row] = await db.select().from(apiTokens).where(eq(apiTokens.tokenHash, tokenHash)).limit(1);
  return row;
}

export async function listApiTokens(db: DbOrTx, userId: string) {
  return db
    .select({
      id: apiTokens.id,
      name: apiTokens.name,
      prefix: apiTokens.prefix,
      createdAt: apiTokens.createdAt,
      lastUsedAt: apiTokens.lastUsedAt,
      expiresAt: apiTokens.expiresAt,
      revokedAt: apiTokens.revokedAt,
    })
    .from(apiTokens)
    .where(eq(apiTokens.userId, userId))
    .orderBy(desc(apiTokens.createdAt));
}

export async function revokeApiToken(db: DbOrTx, params: { userId: string; id: string }): Promise<boolean> {
  const rows = await db
    .update(apiTokens)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiTokens.id, params.id), eq(apiTokens.userId, params.userId), isNull(apiTokens.revokedAt)))
    .returning({ id: apiTokens.id });
  return rows.length > 0;
}

export async function touchApiToken(db: DbOrTx, id: string): Promise<void> {
  await db.update(apiTokens).set({ lastUsedAt: new Date() }).where(eq(apiTokens.id, id));
}

/** Revokes every live token of a user (after a password change or reset, when asked); returns how many. */
export async function revokeApiTokensOfUser(db: DbOrTx, params: { userId: string; at: Date }): Promise<number> {
  const rows = await db
    .update(apiTokens)
    .set({ revokedAt: params.at })
    .where(and(eq(apiTokens.userId, params.userId), isNull(apiTokens.revokedAt)))
    .returning({ id: apiTokens.id });
  return rows.length;
}

// ---- one-time tokens (verification, reset, first-admin setup) ----

export async function insertOneTimeToken(db: DbOrTx, values: typeof oneTimeTokens.$inferInsert) {
  const [row] = await db.insert(oneTimeTokens).values(values).returning();
  return row!;
}

export async function getOneTimeToken(db: DbOrTx, params: { purpose: OneTimeTokenPurpose; tokenHash: string }) {
  const [row] = await db
    .select()
    .from(oneTimeTokens)
    .where(and(eq(oneTimeTokens.tokenHash, params.tokenHash), eq(oneTimeTokens.purpose, params.purpose)))
    .limit(1);
  return row;
}

/** Atomically marks a live token used; undefined when it is unknown, used or expired (single use under races). */
export async function consumeOneTimeToken(db: DbOrTx, params: { purpose: OneTimeTokenPurpose; tokenHash: string }) {
  const [row] = await db
    .update(oneTimeTokens)
    .set({ usedAt: new Date() })
    .where(
      and(
        eq(oneTimeTokens.tokenHash, params.tokenHash),
        eq(oneTimeTokens.purpose, params.purpose),
        isNull(oneTimeTokens.usedAt),
        gt(oneTimeTokens.expiresAt, new Date()),
      ),
    )
    .returning();
  return row;
}

/** Voids the unused tokens of one purpose (for one user, or the user-less setup links). */
export async function voidOneTimeTokens(db: DbOrTx, params: { purpose: OneTimeTokenPurpose; userId: string | null }) {
  await db
    .update(oneTimeTokens)
    .set({ expiresAt: new Date(0) })
    .where(
      and(
        eq(oneTimeTokens.purpose, params.purpose),
        params.userId ? eq(oneTimeTokens.userId, params.userId) : isNull(oneTimeTokens.userId),
        isNull(oneTimeTokens.usedAt),
      ),
    );
}

// ---- rate limits ----

/** Counts one hit in the current fixed window and returns the new count and the window's end. */
export async function hitRateLimit(
  db: DbOrTx,
  params: { key: string; windowSeconds: number },
): Promise<{ count: number; resetAt: Date }> {
  const rows = await db.execute<{ count: number; window_start: Date | string }>(sql`
    insert into ${rateLimits} (key, window_start, count) values (${params.key}, now(), 1)
    on conflict (key) do update set
      count = case when ${rateLimits.windowStart} < now() - make_interval(secs => ${params.windowSeconds})
                   then 1 else ${rateLimits.count} + 1 end,
      window_start = case when ${rateLimits.windowStart} < now() - make_interval(secs => ${params.windowSeconds})
                   then now() else ${rateLimits.windowStart} end
    returning count, window_start`);
  const row = rows[0]!;
  const start = new Date(row.window_start);
  return { count: Number(row.count), resetAt: new Date(start.getTime() + params.windowSeconds * 1000) };
}

export async function clearRateLimit(db: DbOrTx, key: string): Promise<void> {
  await db.delete(rateLimits).where(eq(rateLimits.key, key));
}

// ---- failed sign-ins (backoff) ----

export type SignInFailureRow = typeof signInFailures.$inferSelect;

/**
 * Locks the counters of these keys until the transaction ends, creating empty ones, and
 * returns them by key. Keys are locked in sorted order, so two attempts never deadlock.
 */
export async function lockSignInFailures(tx: DbOrTx, params: { keys: string[]; now: Date }): Promise<Map<string, SignInFailureRow>> {
  const keys = [...new Set(params.keys)].sort();
  await tx
    .insert(signInFailures)
    .values(keys.map((key) => ({ key, failures: 0, lastFailureAt: params.now })))
    .onConflictDoNothing();
  const rows = await tx.select().from(signInFailures).where(inArray(signInFailures.key, keys)).orderBy(asc(signInFailures.key)).for("update");
  return new Map(rows.map((r) => [r.key, r]));
}

export async function updateSignInFailure(tx: DbOrTx, row: SignInFailureRow): Promise<void> {
  await tx
    .update(signInFailures)
    .set({ failures: row.failures, lastFailureAt: row.lastFailureAt, blockedUntil: row.blockedUntil })
    .where(eq(signInFailures.key, row.key));
}

export async function deleteSignInFailures(tx: DbOrTx, keys: string[]): Promise<void> {
  if (keys.length) await tx.delete(signInFailures).where(inArray(signInFailures.key, keys));
}

/** Forgets counters that have seen no failure since `before`; returns how many. */
export async function deleteSignInFailuresBefore(db: DbOrTx, before: Date): Promise<number> {
  const rows = await db.delete(signInFailures).where(lt(signInFailures.lastFailureAt, before)).returning({ key: signInFailures.key });
  return rows.length;
}

export async function getSignInFailure(db: DbOrTx, key: string): Promise<SignInFailureRow | undefined> {
  const [row] = await db.select().from(signInFailures).where(eq(signInFailures.key, key)).limit(1);
  return row;
}

// ---- housekeeping (worker) ----

export async function deleteExpiredAuthRows(db: DbOrTx, params: { windowSeconds: number }) {
  const now = new Date();
  const cutoff = new Date(now.getTime() - 7 * 24 * 3600 * 1000);
  const sessions = await db.delete(userSessions).where(lt(userSessions.expiresAt, now)).returning({ id: userSessions.id });
  const tokens = await db
    .delete(oneTimeTokens)
    .where(or(lt(oneTimeTokens.expiresAt, cutoff), lt(oneTimeTokens.usedAt, cutoff)))
    .returning({ id: oneTimeTokens.id });
  const limits = await db
    .delete(rateLimits)
    .where(lt(rateLimits.windowStart, new Date(now.getTime() - params.windowSeconds * 1000)))
    .returning({ key: rateLimits.key });
  return { sessions: sessions.length, oneTimeTokens: tokens.length, rateLimits: limits.length };
}

export async function listSessionsOfUser(db: DbOrTx, userId: string) {
  return db.select().from(userSessions).where(eq(userSessions.userId, userId)).orderBy(asc(userSessions.createdAt));
}

export async function listOneTimeTokensOfUser(db: DbOrTx, userId: string) {
  return db.select().from(oneTimeTokens).where(eq(oneTimeTokens.userId, userId)).orderBy(asc(oneTimeTokens.createdAt));
}
