// userPassword values as the directory verifies them. Kiln's own argon2 hash cannot be turned
// into one of these, so the password is hashed a second time when it is set (registration,
// change, reset) and kept in users.directory_password_hash while a directory is configured.
import { createHash, randomBytes, randomInt } from "node:crypto";
import { encrypt } from "unixcrypt";
import type { DirectoryPasswordScheme } from "./config";

const CRYPT_SALT_CHARS = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** 16 characters from crypt(3)'s alphabet (unixcrypt's `encrypt(pw, "$6$")` would use an empty salt). */
export function makeCryptSalt(): string {
  let s = "";
  for (let i = 0; i < 16; i++) s += CRYPT_SALT_CHARS[randomInt(CRYPT_SALT_CHARS.length)];
  return s;
}

/**
 * sha512-crypt rounds: 10× glibc's default, so a leaked value (Kiln's database, a directory dump)
 * is slower to attack; ~55 ms of JavaScript when a password is set, a few ms of C per bind.
 */
export const CRYPT_ROUNDS = 50_000;

/** `{CRYPT}$6$rounds=…$salt$…` (sha512-crypt, verified by slapd through the system's crypt(3)) or `{SSHA}…`. */
export function hashDirectoryPassword(password: string, scheme: DirectoryPasswordScheme): string {
  if (scheme === "ssha") {
    const salt = randomBytes(8);
    const digest = createHash("sha1").update(password, "utf8").update(salt).digest();
    return `{SSHA}${Buffer.concat([digest, salt]).toString("base64")}`;
  }
  // unixcrypt wants the salt without a trailing "$" when rounds are given.
  return `{CRYPT}${encrypt(password, `$6$rounds=${CRYPT_ROUNDS}$${makeCryptSalt()}`)}`;
}

const LOCK = "!";

/**
 * The same value made unusable for binds: `!` after the scheme tag (no crypt(3) hash and no
 * base64 SSHA value starts with it, so nothing matches), undone by unlockDirectoryPassword.
 */
export function lockDirectoryPassword(value: string): string {
  const m = /^(\{[^}]+\})(.*)$/s.exec(value);
  if (!m) return `{CRYPT}${LOCK}`;
  return m[2]!.startsWith(LOCK) ? value : `${m[1]}${LOCK}${m[2]}`;
}

export function isDirectoryPasswordLocked(value: string): boolean {
  return /^\{[^}]+\}!/.test(value);
}
