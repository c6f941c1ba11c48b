// Checks credentials and account state. Wrong login and wrong password get the same
// answer (and the same time), so sign-in does not reveal which accounts exist.
import { createUserIfAbsent, getUserByEmail, getUserByLdapUsername, updateUser } from "@/db/queries/users";
import type { UserRow } from "@/db/schema";
import type { Db } from "../db";
import { getEnv } from "../env";
import { AppError } from "../errors";
import { recordAudit } from "../audit/audit";
import { getUserStatus } from "../users/user-view";
import type { RequestContext } from "../http/context";
import type { SignInInput } from "../validation/accounts";
import { authenticateLdapUser, type LdapConfig, type LdapUser } from "./ldap";
import { burnPasswordCheck, verifyPassword } from "./password";
import { throttledSignIn } from "./sign-in-throttle";

type Clock = { now?: Date };

const WRONG_PASSWORD = "The email or password is incorrect.";
const WRONG_LDAP = "The username or password is incorrect.";

const UNSTORABLE = /\0|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function isStorableText(s: string): boolean {
  return !UNSTORABLE.test(s);
}

/** Refuses accounts that may not sign in; only called after the password was proven right. */
function assertMaySignIn(user: UserRow): void {
  const status = getUserStatus(user);
  // A tombstone has no password and no LDAP username, so it is never found; refused here too should that change.
  if (status === "deleted") throw new AppError("unauthorized", WRONG_PASSWORD);
  if (status === "disabled") throw new AppError("forbidden", "This account is disabled. Contact an administrator if you think this is a mistake.");
  if (status === "pending_verification")
    throw new AppError("forbidden", "Confirm your email address first: open the link we mailed you. Registering again sends a new link.");
  if (status === "pending_approval") throw new AppError("forbidden", "Your account is waiting for an administrator's approval. You will get a mail when it is approved.");
}

/** Failed attempts slow further ones down, per account and per address (./sign-in-throttle.ts). */
export async function authenticateWithPassword(db: Db, input: SignInInput, ctx: RequestContext, clock: Clock = {}): Promise<UserRow> {
  const now = clock.now ?? new Date();
  return throttledSignIn(db, { method: "password", login: input.login, ip: ctx.ip }, now, async () => {
    // A login PostgreSQL cannot even compare (NUL, a lone surrogate) is no one's: answered like any unknown login.
    const user = isStorableText(input.login) ? await getUserByEmail(db, input.login) : undefined;
    if (!user?.passwordHash) {
      await burnPasswordCheck(input.password);
      throw new AppError("unauthorized", WRONG_PASSWORD);
    }
    if (!(await verifyPassword(user.passwordHash, input.password))) throw new AppError("unauthorized", WRONG_PASSWORD);
    assertMaySignIn(user);
    return (await updateUser(db, user.id, { lastSignInAt: now }))!;
  });
}

export function getLdapConfig(): LdapConfig | null {
  const env = getEnv();
  if (!env.LDAP_URL || !env.LDAP_BASE_DN) return null;
  return {
    url: env.LDAP_URL,
    bindDn: env.LDAP_BIND_DN,
    bindPassword: env.LDAP_BIND_PASSWORD,
    baseDn: env.LDAP_BASE_DN,
    userFilter: env.LDAP_USER_FILTER,
    adminGroupDn: env.LDAP_ADMIN_GROUP_DN,
    timeoutMs: env.LDAP_TIMEOUT_MS,
  };
}

/**
 * Signs in through the directory. The first sign-in creates the local profile; later ones
 * refresh name and email, and the role when an admin group is configured (the directory decides).
 */
export async function authenticateWithLdap(
  db: Db,
  input: SignInInput,
  ctx: RequestContext,
  cfg = getLdapConfig(),
  clock: Clock = {},
): Promise<UserRow> {
  if (!cfg) throw new AppError("bad_request", "Sign-in with a lab (LDAP) account is not configured on this Kiln.");
  const now = clock.now ?? new Date();
  return throttledSignIn(db, { method: "ldap", login: input.login, ip: ctx.ip }, now, async () => {
    const found = await authenticateLdapUser(cfg, input.login, input.password);
    if (!found) throw new AppError("unauthorized", WRONG_LDAP);
    return signInLdapUser(db, cfg, found, ctx, now);
  });
}

async function signInLdapUser(db: Db, cfg: LdapConfig, found: LdapUser, ctx: RequestContext, now: Date): Promise<UserRow> {
  const email = found.email ?? `${found.username}@ldap.invalid`;
  const roleFromDirectory = cfg.adminGroupDn ? (found.isAdmin ? "admin" : "user") : undefined;
  let user = await getUserByLdapUsername(db, found.username);
  if (!user) {
    user = await createUserIfAbsent(db, {
      email,
      name: found.name,
      authSource: "ldap",
      ldapUsername: found.username,
      role: roleFromDirectory ?? "user",
      // The directory vouches for its people: no mail verification or approval.
      emailVerifiedAt: now,
      approvedAt: now,
      lastSignInAt: now,
    });
    if (user) {
      await recordAudit(db, { user, ip: ctx.ip }, { action: "user.ldap.create", targetType: "user", targetId: user.id, summary: `first LDAP sign-in of ${found.username} created a profile${user.role === "admin" ? " (admin by group)" : ""}` });
    } else {
      throw new AppError(
        "conflict",
        `A Kiln account with the email ${email} already exists and is not linked to your directory account. Ask an administrator to resolve it.`,
      );
    }
    return user;
  }
  assertMaySignIn(user);
  const emailChanged = email !== user.email && !(await getUserByEmail(db, email));
  return (await updateUser(db, user.id, {
    name: found.name,
    ...(emailChanged ? { email } : {}),
    ...(roleFromDirectory ? { role: roleFromDirectory } : {}),
    lastSignInAt: now,
  }))!;
}
