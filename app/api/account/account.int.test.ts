// Password change and reset through their real route handlers, with real Auth.js session
// cookies (sealed with the app's secret, as a browser would hold them): the other sessions'
// cookies stop working, the caller's does not, and API tokens go only when asked.
import { callRoute, TEST_ORIGIN, type CallOptions } from "@/test/harness/route-handler";
import { encode } from "next-auth/jwt";
import { beforeAll, describe, expect, it } from "vitest";
import { issueOneTimeToken } from "@/lib/accounts/one-time-links";
import { createApiToken } from "@/lib/auth/api-tokens";
import { SESSION_MAX_AGE_SECONDS, startSession } from "@/lib/auth/sessions";
import { useTestDb } from "@/test/harness/database";
import { setTestEnvDefaults } from "@/test/harness/env";
import { createActiveUser, testContext, TEST_PASSWORD, type UserRow } from "@/test/harness/fixtures";
import * as me from "../v1/me/route";
import * as resetConfirm from "./password-reset/confirm/route";
import * as password from "./password/route";

const t = await useTestDb();
const AUTH_SECRET = "account-route-test-secret-0123456789abcdef";
// Auth.js names the cookie after the scheme it sees; the test origin is plain http.
const COOKIE = "authjs.session-token";

beforeAll(() => setTestEnvDefaults({ AUTH_SECRET }));

/** A signed-in browser: a session row and the cookie Auth.js would have set for it. */
async function browserOf(user: UserRow): Promise<string> {
  const sid = await startSession(t.db, user, testContext());
  const jwt = await encode({ token: { sub: user.id, sid }, secret: AUTH_SECRET, salt: COOKIE, maxAge: SESSION_MAX_AGE_SECONDS });
  return `${COOKIE}=${jwt}`;
}

/** Same-origin browser headers, so a request gate that checks Origin lets the call through. */
function asBrowser(cookie: string, extra: CallOptions = {}): CallOptions {
  return { ...extra, headers: { cookie, origin: TEST_ORIGIN, "sec-fetch-site": "same-origin", "x-forwarded-proto": "http", host: "kiln.test", ...extra.headers } };
}

async function whoIs(options: CallOptions): Promise<number> {
  return (await callRoute(me.GET, "GET", "/api/v1/me", options)).status;
}

describe("changing the password through POST /api/account/password", () => {
  it("keeps the caller's session, ends the other browser's, and keeps API tokens unless asked", async () => {
    const { user } = await createActiveUser(t.db);
    const [mine, other] = [await browserOf(user), await browserOf(user)];
    const { token } = await createApiToken(t.db, user.id, { name: "ci" });
    expect(await whoIs(asBrowser(mine))).toBe(200);
    expect(await whoIs(asBrowser(other))).toBe(200);

    const res = await callRoute(password.POST, "POST", "/api/account/password", asBrowser(mine, { body: { currentPassword: TEST_PASSWORD, newPassword: "a fine new passphrase" } }));
    expect(res).toMatchObject({ status: 200, body: { ok: true, endedSessions: 1, revokedTokens: 0 } });
    expect(await whoIs(asBrowser(mine))).toBe(200);
    expect(await whoIs(asBrowser(other))).toBe(401);
    expect(await whoIs({ token })).toBe(200);
  });

  it("revokes every API token with revokeTokens: true", async () => {
    const { user } = await createActiveUser(t.db);
    const mine = await browserOf(user);
    const tokens = [await createApiToken(t.db, user.id, { name: "ci" }), await createApiToken(t.db, user.id, { name: "laptop" })];
    const res = await callRoute(password.POST, "POST", "/api/account/password", asBrowser(mine, { body: { currentPassword: TEST_PASSWORD, newPassword: "a fine new passphrase", revokeTokens: true } }));
    expect(res).toMatchObject({ status: 200, body: { ok: true, endedSessions: 0, revokedTokens: 2 } });
    for (const { token } of tokens) expect(await whoIs({ token })).toBe(401);
    expect(await whoIs(asBrowser(mine))).toBe(200);
  });

  it("answers a common password and the caller's own email with a 400 naming the field, and ends nothing", async () => {
    const { user } = await createActiveUser(t.db);
    const [mine, other] = [await browserOf(user), await browserOf(user)];
    for (const [newPassword, message] of [
      ["Password123!", /^This password is too common/],
      [user.email, /^This password contains your email address/],
    ] as const) {
      const res = await callRoute<{ error: { details: { fieldErrors: Record<string, string[]> } } }>(
        password.POST, "POST", "/api/account/password", asBrowser(mine, { body: { currentPassword: TEST_PASSWORD, newPassword, revokeTokens: true } }),
      );
      expect(res.status).toBe(400);
      expect(res.body.error.details.fieldErrors.newPassword).toEqual([expect.stringMatching(message)]);
    }
    expect(await whoIs(asBrowser(other))).toBe(200);
  });
});

describe("resetting the password through POST /api/account/password-reset/confirm", () => {
  async function resetToken(user: UserRow): Promise<string> {
    return issueOneTimeToken(t.db, { purpose: "reset_password", userId: user.id, ttlMs: 600_000 });
  }

  it("ends every session, the browser that follows the link included; tokens go only when asked", async () => {
    const { user } = await createActiveUser(t.db);
    const browsers = [await browserOf(user), await browserOf(user)];
    const kept = await createApiToken(t.db, user.id, { name: "kept" });
    const first = await callRoute(resetConfirm.POST, "POST", "/api/account/password-reset/confirm", asBrowser(browsers[0]!, { body: { token: await resetToken(user), password: "a brand new passphrase" } }));
    expect(first).toMatchObject({ status: 200, body: { email: user.email, endedSessions: 2, revokedTokens: 0 } });
    for (const cookie of browsers) expect(await whoIs(asBrowser(cookie))).toBe(401);
    expect(await whoIs({ token: kept.token })).toBe(200);

    const again = await browserOf(user);
    const second = await callRoute(resetConfirm.POST, "POST", "/api/account/password-reset/confirm", { body: { token: await resetToken(user), password: "yet another passphrase", revokeTokens: true } });
    expect(second).toMatchObject({ status: 200, body: { endedSessions: 1, revokedTokens: 1 } });
    expect(await whoIs(asBrowser(again))).toBe(401);
    expect(await whoIs({ token: kept.token })).toBe(401);
  });

  it("answers a common password with a 400 and leaves the link usable", async () => {
    const { user } = await createActiveUser(t.db);
    const token = await resetToken(user);
    const refused = await callRoute(resetConfirm.POST, "POST", "/api/account/password-reset/confirm", { body: { token, password: "qwertyuiop123" } });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toContain("This password is too common");
    const bad = await callRoute(resetConfirm.POST, "POST", "/api/account/password-reset/confirm", { body: { token, password: "a brand new passphrase", revokeTokens: "please" } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain("revokeTokens must be true or false.");
    expect((await callRoute(resetConfirm.POST, "POST", "/api/account/password-reset/confirm", { body: { token, password: "a brand new passphrase" } })).status).toBe(200);
  });
});
