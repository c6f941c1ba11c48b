import { createUserIfAbsent, getUserByEmail } from "@/db/queries/users";
import type { Db } from "../db";
import { getEnv } from "../env";
import { AppError } from "../errors";
import { actorOf } from "../access/actor";
import { recordAudit } from "../audit/audit";
import { enforceRateLimits } from "../auth/rate-limit";
import { hashPassword } from "../auth/password";
import { hashPasswordForDirectory } from "../directory/mark";
import { assertPasswordAllowed } from "../auth/password-policy";
import type { RequestContext } from "../http/context";
import { sendMail } from "../mail/send";
import { alreadyRegisteredMail, verifyEmailMail } from "../mail/templates";
import { registerSchema } from "../validation/accounts";
import { parseInput } from "../validation/parse";
import { absoluteUrl, VERIFY_LINK_HOURS } from "./links";
import { issueOneTimeToken } from "./one-time-links";

export function isEmailDomainAllowed(email: string, allowed: string[]): boolean {
  if (allowed.length === 0) return true;
  const domain = email.slice(email.lastIndexOf("@") + 1).toLowerCase();
  return allowed.some((d) => domain === d || domain.endsWith(`.${d}`));
}

export type RegisterResult = { email: string };

/**
 * Creates an unverified account and mails its verification link, all or nothing:
 * if the mail cannot be sent the account is rolled back. An address that already has
 * an account gets a "you already have one" mail instead, and the caller sees the same
 * answer either way, so registration does not reveal which addresses have accounts.
 */
export async function registerUser(db: Db, input: unknown, ctx: RequestContext): Promise<RegisterResult> {
  const env = getEnv();
  if (env.KILN_REGISTRATION === "closed") {
    throw new AppError("forbidden", "Registration is closed on this Kiln. Ask an administrator for an account.");
  }
  const data = parseInput(registerSchema, input);
  if (!isEmailDomainAllowed(data.email, env.KILN_ALLOWED_EMAIL_DOMAINS)) {
    throw AppError.field(
      "email",
      `Registration is limited to addresses at ${env.KILN_ALLOWED_EMAIL_DOMAINS.join(", ")}.`,
    );
  }
  // Before the rate limits: choosing a better password is not another registration attempt.
  await assertPasswordAllowed("password", data.password, { email: data.email, name: data.name });
  await enforceRateLimits(db, [
    { key: `register:ip:${ctx.ip}`, limit: env.KILN_RATE_LIMIT_REGISTER_PER_IP, what: "registrations from your address" },
    { key: `register:email:${data.email}`, limit: 3, what: "registration attempts for this email address" },
  ]);
  const passwordHash = await hashPassword(data.password);

  await db.transaction(async (tx) => {
    const user = await createUserIfAbsent(tx, {
      email: data.email,
      name: data.name,
      passwordHash,
      directoryPasswordHash: hashPasswordForDirectory(data.password),
      approvedAt: env.KILN_REGISTRATION === "approval" ? null : new Date(),
    });
    if (!user) {
      const existing = await getUserByEmail(tx, data.email);
      if (!existing || existing.disabledAt) return;
      if (existing.emailVerifiedAt || existing.authSource !== "local") {
        await sendMail(tx, alreadyRegisteredMail(data.email, absoluteUrl("/signin"), absoluteUrl("/forgot-password")));
        return;
      }
      // Never verified: the first mail was probably lost, so send a fresh link (the old one stops working).
      const token = await issueOneTimeToken(tx, { purpose: "verify_email", userId: existing.id, ttlMs: VERIFY_LINK_HOURS * 3600_000 });
      await sendMail(tx, verifyEmailMail(data.email, absoluteUrl(`/verify/${token}`), VERIFY_LINK_HOURS));
      return;
    }
    await recordAudit(tx, actorOf(null, ctx), { action: "user.register", targetType: "user", targetId: user.id, summary: `${data.email} registered` });
    const token = await issueOneTimeToken(tx, { purpose: "verify_email", userId: user.id, ttlMs: VERIFY_LINK_HOURS * 3600_000 });
    await sendMail(tx, verifyEmailMail(data.email, absoluteUrl(`/verify/${token}`), VERIFY_LINK_HOURS));
  });
  return { email: data.email };
}
