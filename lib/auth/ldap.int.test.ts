// Sign-in through a real OpenLDAP: a private slapd seeded with alice (in the admin group), bob, carol (no mail) and dave.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getUserById, getUserByLdapUsername, updateUser } from "@/db/queries/users";
import { createActiveUser, expectAppError, testContext } from "@/test/harness/fixtures";
import { useTestDb } from "@/test/harness/database";
import { setTestEnv, setTestEnvDefaults } from "@/test/harness/env";
import { startSlapd, stopSlapd, type SlapdHandle } from "@/test/harness/slapd";
import { closedPort } from "@/test/harness/smtp";
import { AppError } from "../errors";
import type { RequestContext } from "../http/context";
import { authenticateWithLdap, getLdapConfig } from "./authenticate";
import { authenticateLdapUser } from "./ldap";

const t = await useTestDb();
let ldap: SlapdHandle;

beforeAll(async () => {
  ldap = await startSlapd();
  setTestEnvDefaults({ ...ldap.kilnEnv(), LDAP_TIMEOUT_MS: "2000" });
});
afterAll(() => (ldap ? stopSlapd(ldap) : undefined));

const WRONG = "The username or password is incorrect.";

function signIn(login: string, password: string) {
  return authenticateWithLdap(t.db, { method: "ldap", login, password }, testContext());
}

describe("LDAP sign-in", () => {
  it("signs in by uid; the first sign-in creates a local profile, and the admin group gives the admin role", async () => {
    const { alice } = ldap.users;
    expect(await getUserByLdapUsername(t.db, "alice")).toBeUndefined();
    const user = await signIn("alice", alice.password);
    expect(user).toMatchObject({
      authSource: "ldap",
      ldapUsername: "alice",
      email: "alice@kiln.test",
      name: "Alice Admin",
      role: "admin",
      passwordHash: null,
    });
    expect(user.emailVerifiedAt).toBeInstanceOf(Date);
    expect(user.approvedAt).toBeInstanceOf(Date);

    // The second sign-in finds the same profile instead of creating another.
    expect((await signIn("alice", alice.password)).id).toBe(user.id);
  });

  it("signs in by mail; a user outside the admin group is a plain user", async () => {
    const { bob } = ldap.users;
    const user = await signIn("BOB@kiln.test", bob.password);
    expect(user).toMatchObject({ ldapUsername: "bob", email: "bob@kiln.test", role: "user", authSource: "ldap" });
  });

  it("lets the directory decide the role on every sign-in when an admin group is configured", async () => {
    const { bob } = ldap.users;
    const first = await signIn("bob", bob.password);
    await updateUser(t.db, first.id, { role: "admin" });
    expect((await signIn("bob", bob.password)).role).toBe("user");
  });

  it("gives entries without mail a placeholder address", async () => {
    const user = await signIn("carol", ldap.users.carol.password);
    expect(user).toMatchObject({ email: "carol@ldap.invalid", name: "Carol Nomail", ldapUsername: "carol" });
  });

  it("refuses a wrong password and an unknown user with the same message", async () => {
    await expectAppError(signIn("alice", "not alices password"), "unauthorized", WRONG);
    await expectAppError(signIn("mallory", "whatever"), "unauthorized", WRONG);
    await expectAppError(signIn("alice@kiln.test", ldap.users.bob.password), "unauthorized", WRONG);
  });

  it("refuses an empty password (an anonymous bind would otherwise succeed)", async () => {
    await expectAppError(signIn("alice", ""), "unauthorized", WRONG);
  });

  it("escapes the login in the search filter, so wildcards cannot pick someone's entry", async () => {
    const { alice } = ldap.users;
    await expectAppError(signIn("ali*", alice.password), "unauthorized", WRONG);
    await expectAppError(signIn("*)(uid=alice", alice.password), "unauthorized", WRONG);
  });

  it("refuses a disabled profile even with the right directory password", async () => {
    const { alice } = ldap.users;
    const user = await signIn("alice", alice.password);
    await updateUser(t.db, user.id, { disabledAt: new Date() });
    await expectAppError(signIn("alice", alice.password), "forbidden", /disabled/);
    await updateUser(t.db, user.id, { disabledAt: null });
  });

  it("does not take over a local account that already has the directory user's email", async () => {
    const { dave } = ldap.users;
    const { user: local } = await createActiveUser(t.db, { email: dave.mail! });
    await expectAppError(signIn("dave", dave.password), "conflict", /already exists and is not linked to your directory account/);
    expect(await getUserByLdapUsername(t.db, "dave")).toBeUndefined();
    expect((await getUserById(t.db, local.id))!.authSource).toBe("local");
  });

  it("says the directory is unreachable (503) when the LDAP port is closed", async () => {
    setTestEnv({ ...ldap.kilnEnv(), LDAP_URL: `ldap://127.0.0.1:${await closedPort()}`, LDAP_TIMEOUT_MS: "2000" });
    const err = await expectAppError(signIn("alice", ldap.users.alice.password), "unavailable", /cannot be reached right now/);
    expect(err.status).toBe(503);
  });

  it("says the settings are wrong when the service account cannot bind", async () => {
    setTestEnv({ ...ldap.kilnEnv(), LDAP_BIND_PASSWORD: "not the bind password" });
    await expectAppError(signIn("alice", ldap.users.alice.password), "unavailable", /LDAP settings are wrong/);
  });

  describe("backoff, as for passwords", () => {
    // Long past whatever the system date is: the uids here are shared with the tests above, which
    // run on the real clock, and a wait left over at T0 must never reach into their time.
    const T0 = new Date("2020-01-15T10:00:00Z");
    const after = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
    const signInAt = (login: string, password: string, ctx: RequestContext, at: Date) =>
      authenticateWithLdap(t.db, { method: "ldap", login, password }, ctx, getLdapConfig(), { now: at });

    it("makes further attempts wait after a few wrong passwords, the right one included, and a success starts afresh", async () => {
      setTestEnv({ ...ldap.kilnEnv(), KILN_RATE_LIMIT_SIGNIN_PER_ACCOUNT: "2", KILN_RATE_LIMIT_SIGNIN_PER_IP: "1000" });
      const { carol } = ldap.users;
      const ctx = testContext();
      await expectAppError(signInAt("carol", "not carols password", ctx, T0), "unauthorized", WRONG);
      await expectAppError(signInAt("CAROL", "not carols password", ctx, T0), "unauthorized", WRONG);
      const err = await expectAppError(signInAt("carol", carol.password, testContext(), T0), "rate_limited", "Too many failed sign-in attempts for this account. Please wait 1 second and try again.");
      expect(err.details).toEqual({ retryAfterSeconds: 1 });
      expect((await signInAt("carol", carol.password, ctx, after(1))).ldapUsername).toBe("carol");
      await expectAppError(signInAt("carol", "not carols password", ctx, after(1)), "unauthorized", WRONG);
      await expectAppError(signInAt("carol", "not carols password", ctx, after(1)), "unauthorized", WRONG);
      await expectAppError(signInAt("carol", "not carols password", ctx, after(1)), "rate_limited");
    });

    it("counts guesses at many directory users against the one address", async () => {
      setTestEnv({ ...ldap.kilnEnv(), KILN_RATE_LIMIT_SIGNIN_PER_ACCOUNT: "100", KILN_RATE_LIMIT_SIGNIN_PER_IP: "3" });
      const ctx = testContext();
      for (const login of ["mallory", "trent", "eve"]) await expectAppError(signInAt(login, "whatever", ctx, T0), "unauthorized", WRONG);
      await expectAppError(signInAt("bob", ldap.users.bob.password, ctx, T0), "rate_limited", /from your address/);
      expect((await signInAt("bob", ldap.users.bob.password, testContext(), T0)).ldapUsername).toBe("bob");
    });

    it("does not count attempts the directory could not answer", async () => {
      const ctx = testContext();
      setTestEnv({ ...ldap.kilnEnv(), LDAP_URL: `ldap://127.0.0.1:${await closedPort()}`, LDAP_TIMEOUT_MS: "2000", KILN_RATE_LIMIT_SIGNIN_PER_ACCOUNT: "1", KILN_RATE_LIMIT_SIGNIN_PER_IP: "1" });
      for (let i = 0; i < 3; i++) await expectAppError(signInAt("alice", ldap.users.alice.password, ctx, T0), "unavailable");
      setTestEnv({ ...ldap.kilnEnv(), KILN_RATE_LIMIT_SIGNIN_PER_ACCOUNT: "1", KILN_RATE_LIMIT_SIGNIN_PER_IP: "1" });
      expect((await signInAt("alice", ldap.users.alice.password, ctx, T0)).ldapUsername).toBe("alice");
    });
  });

  it("reports 'unavailable' with a readable message once slapd has stopped", async () => {
    const cfg = getLdapConfig()!;
    await stopSlapd(ldap);
    const started = Date.now();
    let error: unknown;
    try {
      await authenticateLdapUser(cfg, "alice", ldap.users.alice.password);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe("unavailable");
    expect((error as AppError).message).toBe(
      "The lab directory (LDAP) cannot be reached right now. Try again in a few minutes, or tell an administrator.",
    );
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
