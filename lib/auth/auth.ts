// Auth.js (next-auth v5) owns the session cookie (a signed, encrypted JWT). The JWT
// carries only the id of a row in user_sessions; lib/auth/sessions.ts decides whether
// that row still makes a valid session, so revocation is immediate.
import NextAuth, { type NextAuthConfig } from "next-auth";
import Credentials from "next-auth/providers/credentials";
import { getAppDb } from "../db";
import { getEnv } from "../env";
import { AppError } from "../errors";
import { getRequestContext } from "../http/context";
import { getLogger } from "../log";
import { signInSchema } from "../validation/accounts";
import { parseInput } from "../validation/parse";
import { authenticateWithLdap, authenticateWithPassword } from "./authenticate";
import { SESSION_MAX_AGE_SECONDS, startSession } from "./sessions";

declare module "next-auth" {
  interface User {
    sid?: string;
  }
  interface Session {
    sid?: string;
  }
}

declare module "@auth/core/jwt" {
  interface JWT {
    sid?: string;
  }
}

export const KILN_PROVIDER = "kiln";

function buildConfig(): NextAuthConfig {
  const env = getEnv();
  const log = getLogger("auth");
  return {
    secret: env.AUTH_SECRET,
    trustHost: true,
    session: { strategy: "jwt", maxAge: SESSION_MAX_AGE_SECONDS },
    pages: { signIn: "/signin", error: "/signin" },
    providers: [
      Credentials({
        id: KILN_PROVIDER,
        name: "Kiln",
        credentials: { method: {}, login: {}, password: {} },
        async authorize(credentials, request) {
          const input = parseInput(signInSchema, credentials);
          const ctx = getRequestContext(request.headers);
          const db = getAppDb();
          const user =
            input.method === "ldap"
              ? await authenticateWithLdap(db, input, ctx)
              : await authenticateWithPassword(db, input, ctx);
          const sid = await startSession(db, user, ctx);
          return { id: user.id, email: user.email, name: user.name, sid };
        },
      }),
    ],
    callbacks: {
      jwt({ token, user }) {
        if (user?.sid) token.sid = user.sid;
        return token;
      },
      session({ session, token }) {
        session.sid = token.sid;
        return session;
      },
    },
    logger: {
      // Failed sign-ins are expected traffic (answered with a message), not server errors.
      error(error) {
        const cause = (error as { cause?: { err?: unknown } }).cause?.err;
        if (cause instanceof AppError || error.name === "CredentialsSignin") log.debug({ err: error.message }, "sign-in refused");
        else log.error({ err: error }, "auth error");
      },
      warn(code) {
        log.warn({ code }, "auth warning");
      },
      debug() {},
    },
  };
}

export const { handlers, auth, signIn, signOut } = NextAuth(() => buildConfig());

/** Auth.js wraps errors thrown in authorize(); this digs our AppError back out. */
export function unwrapAuthError(e: unknown): unknown {
  let cur: unknown = e;
  for (let i = 0; i < 4 && cur; i++) {
    if (cur instanceof AppError) return cur;
    const c = cur as { cause?: { err?: unknown } | unknown };
    const next = (c.cause as { err?: unknown })?.err ?? c.cause;
    if (next === cur) break;
    cur = next;
  }
  return e;
}
