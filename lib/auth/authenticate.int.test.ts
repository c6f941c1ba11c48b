import { describe, expect, it } from "vitest";
import { getUserById, updateUser } from "@/db/queries/users";
import { createActiveUser, expectAppError, testContext, TEST_PASSWORD, uniqueEmail } from "@/test/harness/fixtures";
import { useTestDb } from "@/test/harness/database";
import { setTestEnv } from "@/test/harness/env";
import type { RequestContext } from "../http/context";
import { authenticateWithLdap, authenticateWithPassword } from "./authenticate";

const t = await useTestDb();

const WRONG = "The email or password is incorrect.";

function signIn(login: string, password: string, ctx: RequestContext = testContext()) {
  return authenticateWithPassword(t.db, { method: "password", login, password }, ctx);
}

describe("sign-in with a password", () => {
  it("accepts the right password, whatever the case of the email, and records the sign-in", async () => {
    const { user } = await createActiveUser(t.db);
    expect(user.lastSignInAt).toBeNull();
    const signedIn = await signIn(user.email.toUpperCase(), TEST_PASSWORD);
    expect(signedIn.id).toBe(user.id);
    expect((await getUserById(t.db, user.id))!.lastSignInAt).toBeInstanceOf(Date);
  });

  it("gives a wrong password and an unknown email the identical answer", async () => {
    const { user } = await createActiveUser(t.db);
    const wrongPassword = await expectAppError(signIn(user.email, "not the password"), "unauthorized");
    const unknownEmail = await expectAppError(signIn(uniqueEmail("nobody"), TEST_PASSWORD), "unauthorized");
    expect(wrongPassword.message).toBe(WRONG);
    expect(unknownEmail.message).toBe(WRONG);
    expect(unknownEmail.details).toEqual(wrongPassword.details);
  });

  it("refuses an unverified account only after the password was right", async () => {
    const { user } = await createActiveUser(t.db);
    await updateUser(t.db, user.id, { emailVerifiedAt: null });
    await expectAppError(signIn(user.email, "not the password"), "unauthorized", WRONG);
    await expectAppError(signIn(user.email, TEST_PASSWORD), "forbidden", /Confirm your email address first/);
  });

  it("refuses a disabled account", async () => {
    const { user } = await createActiveUser(t.db);
    await updateUser(t.db, user.id, { disabledAt: new Date() });
    await expectAppError(signIn(user.email, TEST_PASSWORD), "forbidden", /This account is disabled/);
  });

  it("refuses LDAP sign-in when no directory is configured", async () => {
    await expectAppError(
      authenticateWithLdap(t.db, { method: "ldap", login: "alice", password: "x" }, testContext()),
      "bad_request",
      /not configured/,
    );
  });
});

describe("sign-in rate limits", () => {
  it("limits attempts per account, across addresses, even with the right password", async () => {
    setTestEnv({ KILN_RATE_LIMIT_SIGNIN_PER_ACCOUNT: "3", KILN_RATE_LIMIT_SIGNIN_PER_IP: "100", KILN_RATE_LIMIT_WINDOW_SECONDS: "600" });
    const { user } = await createActiveUser(t.db);
    for (let i = 0; i < 3; i++) await expectAppError(signIn(user.email, "wrong password!"), "unauthorized");

    const err = await expectAppError(signIn(user.email, TEST_PASSWORD), "rate_limited", /Too many sign-in attempts for this account/);
    expect(err.status).toBe(429);
    expect(err.details?.retryAfterSeconds).toBeGreaterThan(0);
    expect(err.details?.retryAfterSeconds).toBeLessThanOrEqual(600);
    // The limit is per account (email case does not open a new bucket); another account is unaffected.
    await expectAppError(signIn(user.email.toUpperCase(), TEST_PASSWORD), "rate_limited");
    const other = await createActiveUser(t.db);
    expect((await signIn(other.user.email, TEST_PASSWORD)).id).toBe(other.user.id);
  });

  it("limits attempts per client address, across accounts", async () => {
    setTestEnv({ KILN_RATE_LIMIT_SIGNIN_PER_ACCOUNT: "100", KILN_RATE_LIMIT_SIGNIN_PER_IP: "3" });
    const ctx = testContext();
    for (let i = 0; i < 3; i++) await expectAppError(signIn(uniqueEmail("guess"), "whatever pass", ctx), "unauthorized");

    const { user } = await createActiveUser(t.db);
    const err = await expectAppError(signIn(user.email, TEST_PASSWORD, ctx), "rate_limited", /Too many sign-in attempts from your address/);
    expect(err.details?.retryAfterSeconds).toBeGreaterThan(0);
    expect((await signIn(user.email, TEST_PASSWORD, testContext())).id).toBe(user.id);
  });

  it("opens a new window once the old one has passed", async () => {
    setTestEnv({ KILN_RATE_LIMIT_SIGNIN_PER_ACCOUNT: "1", KILN_RATE_LIMIT_WINDOW_SECONDS: "1" });
    const { user } = await createActiveUser(t.db);
    await signIn(user.email, TEST_PASSWORD);
    await expectAppError(signIn(user.email, TEST_PASSWORD), "rate_limited", /Please wait 1 second and try again/);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await signIn(user.email, TEST_PASSWORD)).id).toBe(user.id);
  });
});
