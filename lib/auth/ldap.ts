// LDAP sign-in against the lab's directory: bind as the service account (or
// anonymously), find the user by uid or mail under the base DN, then bind as that
// user with the given password. Group membership maps to the admin role.
import { Client, InvalidCredentialsError, NoSuchObjectError } from "ldapts";
import { AppError } from "../errors";
import { getLogger } from "../log";

export type LdapConfig = {
  url: string;
  bindDn?: string;
  bindPassword?: string;
  baseDn: string;
  userFilter: string;
  adminGroupDn?: string;
  timeoutMs: number;
};

export type LdapUser = { dn: string; username: string; email: string | null; name: string; isAdmin: boolean };

/** RFC 4515 escaping for values placed in a search filter. */
export function escapeLdapFilterValue(value: string): string {
  return value.replace(/[\\*()\0]/g, (c) => "\\" + c.charCodeAt(0).toString(16).padStart(2, "0"));
}

function first(v: unknown): string | null {
  const x = Array.isArray(v) ? v[0] : v;
  if (x == null) return null;
  return Buffer.isBuffer(x) ? x.toString("utf8") : String(x);
}

const UNREACHABLE = "The lab directory (LDAP) cannot be reached right now. Try again in a few minutes, or tell an administrator.";

/** Returns the directory user when the password is right, null when the login or password is wrong. */
export async function authenticateLdapUser(cfg: LdapConfig, login: string, password: string): Promise<LdapUser | null> {
  // An empty password would be an "unauthenticated bind", which many servers accept as anonymous.
  if (!password) return null;
  const log = getLogger("ldap");
  const client = new Client({ url: cfg.url, timeout: cfg.timeoutMs, connectTimeout: cfg.timeoutMs });
  try {
    try {
      if (cfg.bindDn) await client.bind(cfg.bindDn, cfg.bindPassword ?? "");
    } catch (e) {
      if (e instanceof InvalidCredentialsError) {
        log.error("LDAP service account bind failed: check LDAP_BIND_DN and LDAP_BIND_PASSWORD");
        throw new AppError("unavailable", "Kiln's LDAP settings are wrong (its service account cannot sign in). Tell an administrator.");
      }
      throw e;
    }
    const filter = cfg.userFilter.replaceAll("{login}", escapeLdapFilterValue(login));
    const { searchEntries } = await client.search(cfg.baseDn, {
      scope: "sub",
      filter,
      attributes: ["uid", "mail", "cn", "displayName"],
      sizeLimit: 2,
    });
    if (searchEntries.length !== 1) return null; // none, or ambiguous: refuse rather than guess
    const entry = searchEntries[0]!;
    try {
      await client.bind(entry.dn, password);
    } catch (e) {
      if (e instanceof InvalidCredentialsError) return null;
      throw e;
    }
    const username = first(entry.uid) ?? login;
    let isAdmin = false;
    if (cfg.adminGroupDn) {
      const member = escapeLdapFilterValue(entry.dn);
      try {
        const { searchEntries: groups } = await client.search(cfg.adminGroupDn, {
          scope: "base",
          filter: `(|(member=${member})(uniqueMember=${member})(memberUid=${escapeLdapFilterValue(username)}))`,
          attributes: ["dn"],
        });
        isAdmin = groups.length > 0;
      } catch (e) {
        if (!(e instanceof NoSuchObjectError)) throw e;
        log.warn({ group: cfg.adminGroupDn }, "LDAP_ADMIN_GROUP_DN does not exist; nobody gets the admin role from LDAP");
      }
    }
    return {
      dn: entry.dn,
      username,
      email: first(entry.mail)?.toLowerCase() ?? null,
      name: first(entry.displayName) ?? first(entry.cn) ?? username,
      isAdmin,
    };
  } catch (e) {
    if (e instanceof AppError) throw e;
    log.warn({ err: (e as Error).message }, "LDAP request failed");
    throw new AppError("unavailable", UNREACHABLE);
  } finally {
    await client.unbind().catch(() => {});
  }
}
