import { createSession, deleteSession, getLiveSession, touchSession } from "@/db/queries/auth";
import { getUserById } from "@/db/queries/users";
import type { UserRow } from "@/db/schema";
import type { DbOrTx } from "../db";
import { getUserStatus } from "../users/user-view";
import type { RequestContext } from "../http/context";

export const SESSION_MAX_AGE_SECONDS = 30 * 24 * 3600;

export async function startSession(db: DbOrTx, user: UserRow, ctx: RequestContext): Promise<string> {
  const row = await createSession(db, {
    userId: user.id,
    ip: ctx.ip,
    userAgent: ctx.userAgent?.slice(0, 300) ?? null,
    expiresAt: new Date(Date.now() + SESSION_MAX_AGE_SECONDS * 1000),
  });
  return row.id;
}

/**
 * The session row is the truth, not the cookie: a deleted row (sign-out, password
 * change, account disabled) or an inactive user ends the session on the next request.
 */
export async function resolveSession(db: DbOrTx, sessionId: string): Promise<UserRow | null> {
  const session = await getLiveSession(db, sessionId);
  if (!session) return null;
  const user = await getUserById(db, session.userId);
  if (!user || getUserStatus(user) !== "active") return null;
  if (Date.now() - session.lastSeenAt.getTime() > 5 * 60_000) await touchSession(db, session.id);
  return user;
}

export async function endSession(db: DbOrTx, sessionId: string): Promise<void> {
  await deleteSession(db, sessionId);
}
