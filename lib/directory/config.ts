// The writable directory Kiln keeps people's entries in (docs/lab-access.md). Parsed from the
// KILN_DIRECTORY_* settings once; every directory function takes it explicitly, so tests hand
// in their own slapd.
import type { Env } from "../env";

export type DirectoryPasswordScheme = "crypt-sha512" | "ssha";

export type DirectoryConfig = {
  url: string;
  bindDn: string;
  bindPassword: string;
  /** The OU entries go under: uid=<uid>,<peopleDn>. */
  peopleDn: string;
  objectClasses: string[];
  /** Inclusive ranges. */
  uidRange: { first: number; last: number };
  gidRange: { first: number; last: number };
  passwordScheme: DirectoryPasswordScheme;
  /** `{uid}` is replaced by the entry's uid. */
  homeTemplate: string;
  shell: string;
  timeoutMs: number;
};

export function parseIdRange(value: string, name: string): { first: number; last: number } {
  const m = /^(\d+)-(\d+)$/.exec(value.trim());
  const first = Number(m?.[1]);
  const last = Number(m?.[2]);
  if (!m || !(first <= last)) throw new Error(`Invalid environment configuration:\n  ${name}: must be first-last with first ≤ last, e.g. 20000-29999`);
  return { first, last };
}

/** null when no directory is configured (KILN_DIRECTORY_URL unset): Kiln then writes nothing. */
export function directoryConfigFromEnv(env: Env): DirectoryConfig | null {
  if (!env.isDirectoryEnabled || !env.KILN_DIRECTORY_URL) return null;
  return {
    url: env.KILN_DIRECTORY_URL,
    bindDn: env.KILN_DIRECTORY_BIND_DN ?? "",
    bindPassword: env.KILN_DIRECTORY_BIND_PASSWORD ?? "",
    peopleDn: env.KILN_DIRECTORY_PEOPLE_DN ?? "",
    objectClasses: env.KILN_DIRECTORY_OBJECT_CLASSES.split(",").map((s) => s.trim()).filter(Boolean),
    uidRange: parseIdRange(env.KILN_DIRECTORY_UID_RANGE, "KILN_DIRECTORY_UID_RANGE"),
    gidRange: parseIdRange(env.KILN_DIRECTORY_GID_RANGE, "KILN_DIRECTORY_GID_RANGE"),
    passwordScheme: env.KILN_DIRECTORY_PASSWORD_SCHEME,
    homeTemplate: env.KILN_DIRECTORY_HOME,
    shell: env.KILN_DIRECTORY_SHELL,
    timeoutMs: env.LDAP_TIMEOUT_MS,
  };
}
