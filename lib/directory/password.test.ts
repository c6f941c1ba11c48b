import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { encrypt } from "unixcrypt";
import { hashDirectoryPassword, isDirectoryPasswordLocked, lockDirectoryPassword, makeCryptSalt } from "./password";

describe("directory password hashes", () => {
  it("writes {CRYPT}$6$rounds=50000$ with a random 16-character salt that crypt(3) verifies", () => {
    const a = hashDirectoryPassword("correct horse", "crypt-sha512");
    const b = hashDirectoryPassword("correct horse", "crypt-sha512");
    expect(a).toMatch(/^\{CRYPT\}\$6\$rounds=50000\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/);
    expect(a).not.toBe(b);
    const crypted = a.slice("{CRYPT}".length);
    // Re-encrypting with the stored settings (rounds and salt) gives the same value: what crypt(3) checks.
    const settings = crypted.slice(0, crypted.lastIndexOf("$"));
    expect(encrypt("correct horse", settings)).toBe(crypted);
    expect(encrypt("wrong horse", settings)).not.toBe(crypted);
  });

  it("writes {SSHA} as base64(sha1(password + salt) + salt)", () => {
    const h = hashDirectoryPassword("correct horse", "ssha");
    expect(h).toMatch(/^\{SSHA\}/);
    const raw = Buffer.from(h.slice(6), "base64");
    const salt = raw.subarray(20);
    expect(salt).toHaveLength(8);
    expect(createHash("sha1").update("correct horse").update(salt).digest().equals(raw.subarray(0, 20))).toBe(true);
  });

  it("salts from crypt's alphabet only", () => {
    for (let i = 0; i < 50; i++) expect(makeCryptSalt()).toMatch(/^[./0-9A-Za-z]{16}$/);
  });

  it("locks a hash so nothing matches, idempotently", () => {
    const h = hashDirectoryPassword("pw", "crypt-sha512");
    const locked = lockDirectoryPassword(h);
    expect(locked).toBe(`{CRYPT}!${h.slice(7)}`);
    expect(lockDirectoryPassword(locked)).toBe(locked);
    expect(isDirectoryPasswordLocked(locked)).toBe(true);
    expect(isDirectoryPasswordLocked(h)).toBe(false);
    expect(lockDirectoryPassword("garbage")).toBe("{CRYPT}!");
  });
});
