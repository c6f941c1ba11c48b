// The one guard module. Every page, route handler and action calls one of these;
// middleware is never the only check.
import { cache } from "react";
import { headers } from "next/headers";
import { notFound, redirect } from "next/navigation";
import type { UserRow } from "@/db/schema";
import { getAppDb } from "../db";
import { AppError } from "../errors";
import { actorOf, isAdminUser, type Actor } from "../access/actor";
import { getRequestContext, requestedPathOf } from "../http/context";
import { authenticateApiToken } from "./api-tokens";
import { auth } from "./auth";
import { resolveSession } from "./sessions";

export type CurrentUser = { user: UserRow; sessionId: string | null; via: "session" | "token" };

/** Resolves the caller once per request: a bearer token, else the session cookie. */
export const getCurrentUser = cache(async (): Promise<CurrentUser | null> => {
  const db = getAppDb();
  const authorization = (await headers()).get("authorization");
  if (authorization?.toLowerCase().startsWith("bearer ")) {
    const user = await authenticateApiToken(db, authorization.slice(7).trim());
    return { user, sessionId: null, via: "token" };
  }
  const session = await auth();
  if (!session?.sid) return null;
  const user = await resolveSession(db, session.sid);
  return user ? { user, sessionId: session.sid, via: "session" } : null;
});

/** For pages: like getCurrentUser, but an invalid bearer token counts as signed out. */
export async function getCurrentUserOrNull(): Promise<CurrentUser | null> {
  try {
    return await getCurrentUser();
  } catch (e) {
    // Only our own refusals; Next's dynamic-rendering signals and real failures must propagate.
    if (e instanceof AppError) return null;
    throw e;
  }
}

export async function requireUser(): Promise<CurrentUser> {
  const current = await getCurrentUser();
  if (!current) throw new AppError("unauthorized", "Sign in to continue.");
  return current;
}

/** The caller as an audit/authorization actor (user + client address); 401 when signed out. */
export async function requireActor(req: Request): Promise<Actor> {
  const { user } = await requireUser();
  return actorOf(user, getRequestContext(req.headers));
}

export async function requireAdmin(): Promise<CurrentUser> {
  const current = await requireUser();
  if (!isAdminUser(current.user)) throw new AppError("forbidden", "Only administrators can do this.");
  return current;
}

/**
 * For pages: send a signed-out visitor to the sign-in page, and back here afterwards. "Here" is
 * the page the browser asked for (with its query) when our web server says so, since a layout
 * calling this does not know which page below it was requested; `path` when it does not.
 */
export async function requirePageUser(path: string): Promise<CurrentUser> {
  const current = await getCurrentUserOrNull();
  if (!current) redirect(`/signin?next=${encodeURIComponent(requestedPathOf(await headers()) ?? path)}`);
  return current;
}

/** For admin pages: a non-admin gets a 404, so the admin section's shape is not advertised. */
export async function requirePageAdmin(path: string): Promise<CurrentUser> {
  const current = await requirePageUser(path);
  if (!isAdminUser(current.user)) notFound();
  return current;
}
