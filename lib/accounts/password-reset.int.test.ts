import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listOneTimeTokensOfUser, listSessionsOfUser } from "@/db/queries/auth";
import { countRows, updateOneTimeTokenExpiryOfUser } from "@/db/queries/testing";
import { getUserByEmail, updateUser } from "@/db/queries/users";
import { createActiveUser, expectAppError, testContext, uniqueEmail } from "@/test/harness/fixtures";
import { useTestDb } from "@/test/harness/database";
import { setTestEnv, setTestEnvDefaults, TEST_BASE_URL } from "@/test/harness/env";
import { extractLink, linkToken, startSmtp, unusedSmtpUrl, type SmtpHandle } from "@/test/harness/smtp";
import { searchAudit } from "../audit/audit";
import { authenticateApiToken, createApiToken } from "../auth/api-tokens";
import { authenticateWithPassword } from "../auth/authenticate";
import { CONTAINS_EMAIL, TOO_COMMON } from "../auth/password-policy";
import { resolveSession, startSession } from "../auth/sessions";
import { requestPasswordReset, resetPassword } from "./password-reset";

const t = await useTestDb();
let smtp: SmtpHandle;

beforeAll(async () => {
  smtp = await startSmtp();
  setTestEnvDefaults({ SMTP_URL: smtp.url });
});
afterAll(() => smtp?.stop());

const NEW_PASSWORD = "a brand new passphrase";

async function resetLink(email: string): Promise<string> {
  const mail = await smtp.waitForMail((m) => m.to.includes(email) && m.subject === "Reset your Kiln password");
  return extractLink(mail.text, "/reset-password/");
}

function signIn(login: string, password: string) {
  return authenticateWithPassword(t.db, { method: "password", login, password }, testContext());
}

describe("password reset", () => {
  it("mails a link through SMTP; the link sets the password and signs out every session", async () => {
    const { user, password } = await createActiveUser(t.db);
    const sessions = [await startSession(t.db, user, testContext()), await startSession(t.db, user, testContext())];

    await requestPasswordReset(t.db, { email: user.email.toUpperCase() }, testContext());
    const link = await resetLink(user.email);
    expect(link.startsWith(`${TEST_BASE_URL}/reset-password/`)).toBe(true);

    const kept = await createApiToken(t.db, user.id, { name: "ci" });
    expect(await resetPassword(t.db, { token: linkToken(link), password: NEW_PASSWORD })).toEqual({ email: user.email, endedSessions: 2, revokedTokens: 0 });
    // Tokens stay unless asked.
    expect((await authenticateApiToken(t.db, kept.token)).id).toBe(user.id);
    for (const sid of sessions) expect(await resolveSession(t.db, sid)).toBeNull();
    expect(await listSessionsOfUser(t.db, user.id)).toEqual([]);
    await expectAppError(signIn(user.email, password), "unauthorized");
    expect((await signIn(user.email, NEW_PASSWORD)).id).toBe(user.id);
  });

  it("works once: the same link is refused the second time", async () => {
    const { user } = await createActiveUser(t.db);
    await requestPasswordReset(t.db, { email: user.email }, testContext());
    const token = linkToken(await resetLink(user.email));
    await resetPassword(t.db, { token, password: NEW_PASSWORD });
    const err = await expectAppError(resetPassword(t.db, { token, password: "yet another passphrase" }), "gone", "This password reset link has already been used.");
    expect(err.status).toBe(410);
    expect((await signIn(user.email, NEW_PASSWORD)).id).toBe(user.id);
  });

  it("voids an older link when a newer one is requested, and refuses an expired one", async () => {
    const { user } = await createActiveUser(t.db);
    await requestPasswordReset(t.db, { email: user.email }, testContext());
    const older = linkToken(await resetLink(user.email));
    await requestPasswordReset(t.db, { email: user.email }, testContext());
    const newer = linkToken(extractLink(smtp.mailsTo(user.email)[1]!.text, "/reset-password/"));
    await expectAppError(resetPassword(t.db, { token: older, password: NEW_PASSWORD }), "gone", /expired or was replaced/);

    await updateOneTimeTokenExpiryOfUser(t.db, { userId: user.id, expiresAt: new Date(Date.now() - 1000) });
    await expectAppError(resetPassword(t.db, { token: newer, password: NEW_PASSWORD }), "gone", /expired/);
  });

  it("gives an unknown email the same answer and sends nothing", async () => {
    const email = uniqueEmail("ghost");
    const before = await countRows(t.db, ["one_time_tokens"]);
    await expect(requestPasswordReset(t.db, { email }, testContext())).resolves.toBeUndefined();
    expect(smtp.mailsTo(email)).toEqual([]);
    expect(await countRows(t.db, ["one_time_tokens"])).toEqual(before);
  });

  it("sends nothing for disabled and directory (LDAP) accounts", async () => {
    const { user: disabled } = await createActiveUser(t.db);
    await updateUser(t.db, disabled.id, { disabledAt: new Date() });
    const { user: ldap } = await createActiveUser(t.db);
    await updateUser(t.db, ldap.id, { authSource: "ldap", passwordHash: null, ldapUsername: "ldapperson" });
    await requestPasswordReset(t.db, { email: disabled.email }, testContext());
    await requestPasswordReset(t.db, { email: ldap.email }, testContext());
    expect(smtp.mailsTo(disabled.email)).toEqual([]);
    expect(smtp.mailsTo(ldap.email)).toEqual([]);
  });

  it("verifies an unverified account, since following the mailed link proves the address", async () => {
    const { user } = await createActiveUser(t.db);
    await updateUser(t.db, user.id, { emailVerifiedAt: null });
    await requestPasswordReset(t.db, { email: user.email }, testContext());
    await resetPassword(t.db, { token: linkToken(await resetLink(user.email)), password: NEW_PASSWORD });
    expect((await getUserByEmail(t.db, user.email))!.emailVerifiedAt).toBeInstanceOf(Date);
  });

  it("refuses a weak new password without spending the link", async () => {
    const { user } = await createActiveUser(t.db);
    await requestPasswordReset(t.db, { email: user.email }, testContext());
    const token = linkToken(await resetLink(user.email));
    const err = await expectAppError(resetPassword(t.db, { token, password: "short" }), "validation");
    expect(err.details?.fieldErrors?.password).toEqual(["Use at least 10 characters."]);
    await resetPassword(t.db, { token, password: NEW_PASSWORD });
  });

  it("refuses a common password or one containing the email without spending the link", async () => {
    const { user } = await createActiveUser(t.db);
    await requestPasswordReset(t.db, { email: user.email }, testContext());
    const token = linkToken(await resetLink(user.email));
    for (const [password, message] of [
      ["iloveyou12345", TOO_COMMON],
      ["P@ssw0rd2024", TOO_COMMON],
      [`${user.email}!`, CONTAINS_EMAIL],
    ] as const) {
      const err = await expectAppError(resetPassword(t.db, { token, password }), "validation");
      expect(err.details?.fieldErrors).toEqual({ password: [message] });
    }
    await resetPassword(t.db, { token, password: NEW_PASSWORD });
    expect((await signIn(user.email, NEW_PASSWORD)).id).toBe(user.id);
  });

  it("revokes every API token of the account when asked, ends every session, and records both", async () => {
    const { user } = await createActiveUser(t.db);
    const tokens = [await createApiToken(t.db, user.id, { name: "ci" }), await createApiToken(t.db, user.id, { name: "laptop" })];
    const session = await startSession(t.db, user, testContext());
    await requestPasswordReset(t.db, { email: user.email }, testContext());
    const ctx = testContext();
    const result = await resetPassword(t.db, { token: linkToken(await resetLink(user.email)), password: NEW_PASSWORD, revokeTokens: true }, ctx);
    expect(result).toEqual({ email: user.email, endedSessions: 1, revokedTokens: 2 });
    for (const { token } of tokens) await expectAppError(authenticateApiToken(t.db, token), "unauthorized");
    expect(await resolveSession(t.db, session)).toBeNull();
    const { data: rows } = await searchAudit(t.db, { action: "user.password.reset", targetId: user.id });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      summary: `${user.email} reset their password with a mailed link; ended 1 session, revoked 2 API tokens`,
      actorIp: ctx.ip,
      data: { endedSessions: 1, revokedTokens: 2, revokeTokens: true },
    });
  });

  it("limits requests per account and reports when the mail server is down", async () => {
    setTestEnv({ SMTP_URL: smtp.url, KILN_RATE_LIMIT_RESET_PER_ACCOUNT: "2" });
    const { user } = await createActiveUser(t.db);
    await requestPasswordReset(t.db, { email: user.email }, testContext());
    await requestPasswordReset(t.db, { email: user.email }, testContext());
    await expectAppError(requestPasswordReset(t.db, { email: user.email }, testContext()), "rate_limited", /password reset requests for this account/);

    setTestEnv({ SMTP_URL: await unusedSmtpUrl() });
    const { user: other } = await createActiveUser(t.db);
    await expectAppError(requestPasswordReset(t.db, { email: other.email }, testContext()), "unavailable");
    // Nothing was issued: the link that could not be mailed does not exist.
    expect(await listOneTimeTokensOfUser(t.db, other.id)).toEqual([]);
  });
});
