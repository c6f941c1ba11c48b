import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listOutboxMailTo } from "@/db/queries/outbox";
import { countRows, updateOneTimeTokenExpiryOfUser } from "@/db/queries/testing";
import { getUserByEmail, listUsers } from "@/db/queries/users";
import { expectAppError, testContext, TEST_PASSWORD, createActiveUser, uniqueEmail } from "@/test/harness/fixtures";
import { useTestDb } from "@/test/harness/database";
import { setTestEnv, setTestEnvDefaults, TEST_BASE_URL } from "@/test/harness/env";
import { extractLink, linkToken, startSmtp, unusedSmtpUrl, type SmtpHandle } from "@/test/harness/smtp";
import { authenticateWithPassword } from "../auth/authenticate";
import { CONTAINS_EMAIL, TOO_COMMON } from "../auth/password-policy";
import { updateUserAsAdmin } from "./admin";
import { registerUser } from "./register";
import { verifyEmail } from "./verification";

const t = await useTestDb();
let smtp: SmtpHandle;

beforeAll(async () => {
  smtp = await startSmtp();
  setTestEnvDefaults({ SMTP_URL: smtp.url });
});
afterAll(() => smtp?.stop());

async function register(email: string, password = TEST_PASSWORD) {
  return registerUser(t.db, { email, name: "New Person", password }, testContext());
}

async function verificationLink(email: string): Promise<string> {
  const mail = await smtp.waitForMail((m) => m.to.includes(email) && /Confirm your email/.test(m.subject));
  return extractLink(mail.text, "/verify/");
}

describe("registration", () => {
  it("creates an unverified account and mails a verification link through SMTP; the link verifies it", async () => {
    const email = uniqueEmail("new");
    expect(await register(email.toUpperCase())).toEqual({ email });

    const user = await getUserByEmail(t.db, email);
    expect(user).toMatchObject({ email, name: "New Person", role: "user", authSource: "local", emailVerifiedAt: null });
    expect(user!.passwordHash).toMatch(/^\$argon2id\$/);

    const mail = await smtp.waitForMail((m) => m.to.includes(email));
    expect(mail.envelope.to).toEqual([email]);
    expect(mail.subject).toBe("Confirm your email address for Kiln");
    const link = extractLink(mail.text, "/verify/");
    expect(link.startsWith(`${TEST_BASE_URL}/verify/`)).toBe(true);
    // Delivered through SMTP, and recorded as such.
    const [recorded] = await listOutboxMailTo(t.db, email);
    expect(recorded).toMatchObject({ status: "sent", subject: mail.subject });

    await expectAppError(authenticateWithPassword(t.db, { method: "password", login: email, password: TEST_PASSWORD }, testContext()), "forbidden", /Confirm your email/);

    expect(await verifyEmail(t.db, linkToken(link))).toEqual({ email, status: "active" });
    expect((await getUserByEmail(t.db, email))!.emailVerifiedAt).toBeInstanceOf(Date);
    const signedIn = await authenticateWithPassword(t.db, { method: "password", login: email, password: TEST_PASSWORD }, testContext());
    expect(signedIn.email).toBe(email);
  });

  it("refuses a verification link the second time with 410 'already been used'", async () => {
    const email = uniqueEmail("twice");
    await register(email);
    const token = linkToken(await verificationLink(email));
    await verifyEmail(t.db, token);
    const err = await expectAppError(verifyEmail(t.db, token), "gone", "This verification link has already been used.");
    expect(err.status).toBe(410);
  });

  it("refuses an expired verification link with 410", async () => {
    const email = uniqueEmail("late");
    await register(email);
    const token = linkToken(await verificationLink(email));
    const user = (await getUserByEmail(t.db, email))!;
    await updateOneTimeTokenExpiryOfUser(t.db, { userId: user.id, expiresAt: new Date(Date.now() - 1000) });
    const err = await expectAppError(verifyEmail(t.db, token), "gone", /has expired/);
    expect(err.status).toBe(410);
    expect((await getUserByEmail(t.db, email))!.emailVerifiedAt).toBeNull();
  });

  it("refuses an unknown or malformed link with 404", async () => {
    await expectAppError(verifyEmail(t.db, "x".repeat(43)), "not_found", /not valid/);
    await expectAppError(verifyEmail(t.db, "../../etc"), "not_found", /not valid/);
  });

  it("answers a malformed email and a weak, common or own-email password with field errors, and stores and sends nothing", async () => {
    const tokensBefore = await countRows(t.db, ["one_time_tokens"]);
    const before = smtp.messages.length;
    const bad = await expectAppError(register("not-an-email"), "validation");
    expect(bad.details?.fieldErrors?.email).toEqual(["Enter a valid email address, like name@example.org."]);

    const email = uniqueEmail("weak");
    const short = await expectAppError(register(email, "short"), "validation");
    expect(short.details?.fieldErrors?.password).toEqual(["Use at least 10 characters."]);
    const repetitive = await expectAppError(register(email, "aaaaaaaaaaaa"), "validation");
    expect(repetitive.details?.fieldErrors?.password?.[0]).toMatch(/too easy to guess/);
    for (const [password, message] of [
      ["password1234", TOO_COMMON],
      ["Summer2024!", TOO_COMMON],
      [email, CONTAINS_EMAIL],
      [`my ${email.slice(0, email.indexOf("@"))} pass`, CONTAINS_EMAIL],
    ] as const) {
      const err = await expectAppError(register(email, password), "validation");
      expect(err.details?.fieldErrors).toEqual({ password: [message] });
    }

    expect(await getUserByEmail(t.db, email)).toBeUndefined();
    expect(await countRows(t.db, ["one_time_tokens"])).toEqual(tokensBefore);
    expect(smtp.messages.length).toBe(before);
    // Choosing a better password is not another registration attempt: six refusals, yet the per-email limit (3) is untouched.
    expect(await register(email)).toEqual({ email });
  });

  it("limits registration to KILN_ALLOWED_EMAIL_DOMAINS (and their subdomains)", async () => {
    setTestEnv({ SMTP_URL: smtp.url, KILN_ALLOWED_EMAIL_DOMAINS: "Lab.Example, uni.test" });
    const outsider = uniqueEmail("outsider", "gmail.test");
    const err = await expectAppError(register(outsider), "validation", "Registration is limited to addresses at lab.example, uni.test.");
    expect(err.details?.fieldErrors?.email).toHaveLength(1);
    expect(await getUserByEmail(t.db, outsider)).toBeUndefined();
    // A look-alike domain is not a subdomain.
    await expectAppError(register(uniqueEmail("spoof", "evillab.example")), "validation");

    const insider = uniqueEmail("insider", "cs.uni.test");
    await register(insider);
    expect(await getUserByEmail(t.db, insider)).toBeDefined();
  });

  it("answers a registered address the same way, mailing 'already registered' instead of creating anything", async () => {
    const { user } = await createActiveUser(t.db, { name: "Existing" });
    const result = await register(user.email, "another password 123");
    expect(result).toEqual({ email: user.email });

    const mail = await smtp.waitForMail((m) => m.to.includes(user.email));
    expect(mail.subject).toBe("Someone tried to register with your Kiln address");
    expect(extractLink(mail.text, "/forgot-password")).toBe(`${TEST_BASE_URL}/forgot-password`);
    expect((await listUsers(t.db, { search: user.email, limit: 10, offset: 0 })).total).toBe(1);
    // The existing password still works: registering again changed nothing.
    const again = (await getUserByEmail(t.db, user.email))!;
    expect(again.passwordHash).toBe(user.passwordHash);
    expect(again.name).toBe("Existing");
  });

  it("sends a fresh link to an address that registered but never verified, voiding the old one", async () => {
    const email = uniqueEmail("lost");
    await register(email);
    const first = linkToken(await verificationLink(email));
    await register(email);
    const mails = smtp.mailsTo(email);
    expect(mails).toHaveLength(2);
    const second = linkToken(extractLink(mails[1]!.text, "/verify/"));
    expect(second).not.toBe(first);
    await expectAppError(verifyEmail(t.db, first), "gone", /replaced by a newer one/);
    expect((await verifyEmail(t.db, second)).status).toBe("active");
  });

  it("rolls the account back when the mail server is down (AppError 'unavailable', no row left)", async () => {
    setTestEnv({ SMTP_URL: await unusedSmtpUrl() });
    const email = uniqueEmail("nomail");
    const tokensBefore = await countRows(t.db, ["one_time_tokens"]);
    const err = await expectAppError(register(email), "unavailable", /could not send the email/);
    expect(err.status).toBe(503);
    expect(await getUserByEmail(t.db, email)).toBeUndefined();
    expect(await countRows(t.db, ["one_time_tokens"])).toEqual(tokensBefore);
    expect(await listOutboxMailTo(t.db, email)).toEqual([]);
  });

  it("refuses every registration in closed mode", async () => {
    setTestEnv({ SMTP_URL: smtp.url, KILN_REGISTRATION: "closed" });
    const email = uniqueEmail("closed");
    const err = await expectAppError(register(email), "forbidden", /Registration is closed/);
    expect(err.status).toBe(403);
    expect(await getUserByEmail(t.db, email)).toBeUndefined();
    expect(smtp.mailsTo(email)).toEqual([]);
  });

  it("in approval mode, a verified account waits for an admin; sign-in works only after approval", async () => {
    setTestEnv({ SMTP_URL: smtp.url, KILN_REGISTRATION: "approval" });
    const email = uniqueEmail("waiting");
    await register(email);
    expect(await verifyEmail(t.db, linkToken(await verificationLink(email)))).toEqual({ email, status: "pending_approval" });

    const signIn = () => authenticateWithPassword(t.db, { method: "password", login: email, password: TEST_PASSWORD }, testContext());
    await expectAppError(signIn(), "forbidden", /waiting for an administrator/);

    const { user: admin } = await createActiveUser(t.db, { admin: true });
    const pending = (await getUserByEmail(t.db, email))!;
    const approved = await updateUserAsAdmin(t.db, admin, pending.id, { approved: true });
    expect(approved.status).toBe("active");
    const mail = await smtp.waitForMail((m) => m.to.includes(email) && m.subject === "Your Kiln account is approved");
    expect(extractLink(mail.text, "/signin")).toBe(`${TEST_BASE_URL}/signin`);
    expect((await signIn()).id).toBe(pending.id);
  });
});
