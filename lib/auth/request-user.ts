// The caller of a request that never reaches Next.js (the web server's own tus path), resolved
// as guard.ts's getCurrentUser resolves it inside Next: a bearer API token first, else the
// Auth.js session cookie, decoded by Auth.js's own getToken with the cookie name and salt that
// auth() uses, whose session row must still be live. Auth.js's JWT code is loaded only when a
// cookie is to be read: the boot server reaches this module and needs none of it.
import type { CurrentUser } from "./guard";
import type { DbOrTx } from "../db";
import { getEnv } from "../env";
import { authenticateApiToken } from "./api-tokens";
import { resolveSession } from "./sessions";

/**
 * Whether Auth.js names the cookie `__Secure-…`: as auth() decides without AUTH_URL, from the
 * protocol the request arrived with (x-forwarded-proto, which Next.js sets for plain HTTP).
 */
function isSecureRequest(headers: Headers, encrypted: boolean): boolean {
  const proto = headers.get("x-forwarded-proto") ?? (encrypted ? "https" : "http");
  return proto.startsWith("https");
}

/** Null when signed out; an invalid bearer token is a 401 (AppError), as in getCurrentUser. */
export async function getRequestUser(db: DbOrTx, headers: Headers, p: { encrypted: boolean }): Promise<CurrentUser | null> {
  const authorization = headers.get("authorization");
  if (authorization?.toLowerCase().startsWith("bearer ")) {
    const user = await authenticateApiToken(db, authorization.slice(7).trim());
    return { user, sessionId: null, via: "token" };
  }
  const secret = getEnv().AUTH_SECRET;
  if (!secret || !headers.get("cookie")) return null;
  const { getToken } = await import("@auth/core/jwt");
  const token = await getToken({ req: { headers }, secret, secureCookie: isSecureRequest(headers, p.encrypted), logger: { error() {}, warn() {}, debug() {} } as never });
  const sid = typeof token?.sid === "string" ? token.sid : null;
  if (!sid) return null;
  const user = await resolveSession(db, sid);
  return user ? { user, sessionId: sid, via: "session" } : null;
}
