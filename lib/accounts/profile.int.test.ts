import { generateKeyPairSync } from "node:crypto";
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { getUserById, updateUser } from "@/db/queries/users";
import { createActiveUser, expectAppError, testContext, uniqueEmail } from "@/test/harness/fixtures";
import { useTestDb } from "@/test/harness/database";
import { searchAudit } from "../audit/audit";
import { authenticateApiToken, createApiToken } from "../auth/api-tokens";
import { authenticateWithPassword } from "../auth/authenticate";
import { CONTAINS_EMAIL, TOO_COMMON } from "../auth/password-policy";
import { resolveSession, startSession } from "../auth/sessions";
import { addSshKey, changePassword, getSshKeys, removeSshKey, updateProfile } from "./profile";

const t = await useTestDb();

function ed25519PublicKey(comment: string): string {
  const { publicKey } = generateKeyPairSync("ed25519");
  const raw = publicKey.export({ format: "der", type: "spki" }).subarray(-32);
  const field = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return `ssh-ed25519 ${Buffer.concat([field(Buffer.from("ssh-ed25519")), field(raw)]).toString("base64")} ${comment}`;
}

function signIn(login: string, password: string) {
  return authenticateWithPassword(t.db, { method: "password", login, password }, testContext());
}

describe("change password", () => {
  it("needs the current password and a strong new one", async () => {
    const { user, password } = await createActiveUser(t.db);
    const wrong = await expectAppError(changePassword(t.db, user, { currentPassword: "not it at all", newPassword: "a fine new passphrase" }), "validation");
    expect(wrong.details?.fieldErrors).toEqual({ currentPassword: ["This is not your current password."] });
    const weak = await expectAppError(changePassword(t.db, user, { currentPassword: password, newPassword: "short" }), "validation");
    expect(weak.details?.fieldErrors?.newPassword).toEqual(["Use at least 10 characters."]);
    expect((await signIn(user.email, password)).id).toBe(user.id);
  });

  it("sets the new password and signs out every other session, keeping the caller's", async () => {
    const { user, password } = await createActiveUser(t.db);
    const mine = await startSession(t.db, user, testContext());
    const stolen = await startSession(t.db, user, testContext());
    const result = await changePassword(t.db, user, { currentPassword: password, newPassword: "a fine new passphrase" }, { keepSessionId: mine });
    expect(result).toEqual({ endedSessions: 1, revokedTokens: 0 });

    expect((await resolveSession(t.db, mine))?.id).toBe(user.id);
    expect(await resolveSession(t.db, stolen)).toBeNull();
    await expectAppError(signIn(user.email, password), "unauthorized");
    expect((await signIn(user.email, "a fine new passphrase")).id).toBe(user.id);
  });

  it("refuses a common password and one containing the email, naming the field, and changes nothing", async () => {
    const { user, password } = await createActiveUser(t.db, { email: uniqueEmail("grace.hopper") });
    const other = await startSession(t.db, user, testContext());
    const local = user.email.slice(0, user.email.indexOf("@"));
    for (const [newPassword, message] of [
      ["Password123!", TOO_COMMON],
      ["qwertyuiop1234", TOO_COMMON],
      [user.email, CONTAINS_EMAIL],
      [`${local.toUpperCase()} is me`, CONTAINS_EMAIL],
    ] as const) {
      const err = await expectAppError(changePassword(t.db, user, { currentPassword: password, newPassword }), "validation");
      expect(err.details?.fieldErrors).toEqual({ newPassword: [message] });
    }
    expect(TOO_COMMON).toMatch(/^This password is too common/);
    expect((await resolveSession(t.db, other))?.id).toBe(user.id);
    expect((await signIn(user.email, password)).id).toBe(user.id);
  });

  it("revokes the account's API tokens only when asked, and says so in the audit log", async () => {
    const { user, password } = await createActiveUser(t.db);
    const kept = await createApiToken(t.db, user.id, { name: "ci" });
    await changePassword(t.db, user, { currentPassword: password, newPassword: "a fine new passphrase" });
    expect((await authenticateApiToken(t.db, kept.token)).id).toBe(user.id);

    const second = await createApiToken(t.db, user.id, { name: "laptop" });
    const { user: bystander } = await createActiveUser(t.db);
    const theirs = await createApiToken(t.db, bystander.id, { name: "theirs" });
    const changed = (await getUserById(t.db, user.id))!;
    const result = await changePassword(t.db, changed, { currentPassword: "a fine new passphrase", newPassword: "yet another passphrase", revokeTokens: true });
    expect(result).toEqual({ endedSessions: 0, revokedTokens: 2 });
    for (const token of [kept.token, second.token]) await expectAppError(authenticateApiToken(t.db, token), "unauthorized");
    expect((await authenticateApiToken(t.db, theirs.token)).id).toBe(bystander.id);

    const bad = await expectAppError(changePassword(t.db, changed, { currentPassword: "yet another passphrase", newPassword: "one more passphrase", revokeTokens: "yes" }), "validation");
    expect(bad.details?.fieldErrors).toEqual({ revokeTokens: ["revokeTokens must be true or false."] });

    const { data: rows } = await searchAudit(t.db, { action: "user.password.change", targetId: user.id });
    expect(rows.map((r) => r.summary)).toEqual([
      `${user.email} changed their password; ended 0 other sessions, revoked 2 API tokens`,
      `${user.email} changed their password; ended 0 other sessions`,
    ]);
    expect(rows[0]!.data).toEqual({ endedSessions: 0, revokedTokens: 2, revokeTokens: true });
  });

  it("refuses directory (LDAP) accounts, whose password lives in the directory", async () => {
    const { user } = await createActiveUser(t.db);
    const ldapUser = (await updateUser(t.db, user.id, { authSource: "ldap", passwordHash: null, ldapUsername: "dora" }))!;
    await expectAppError(changePassword(t.db, ldapUser, { currentPassword: "x", newPassword: "a fine new passphrase" }), "bad_request", /LDAP/);
  });
});

describe("profile", () => {
  it("updates the display name, trimmed and length-checked", async () => {
    const { user } = await createActiveUser(t.db);
    await updateProfile(t.db, user, { name: "  Grace Hopper " });
    expect((await getUserById(t.db, user.id))!.name).toBe("Grace Hopper");
    const err = await expectAppError(updateProfile(t.db, user, { name: "x".repeat(101) }), "validation");
    expect(err.details?.fieldErrors?.name).toEqual(["Use at most 100 characters."]);
  });
});

describe("SSH keys", () => {
  it("adds, lists and removes a user's keys", async () => {
    const { user } = await createActiveUser(t.db);
    const line = ed25519PublicKey("grace@laptop");
    const added = await addSshKey(t.db, user.id, { publicKey: `  ${line}\n` });
    expect(added).toMatchObject({ userId: user.id, type: "ssh-ed25519", comment: "grace@laptop", publicKey: line.replace(/ grace@laptop$/, "") });
    expect(added.fingerprint).toMatch(/^SHA256:/);

    const second = await addSshKey(t.db, user.id, { publicKey: ed25519PublicKey("grace@desk") });
    expect((await getSshKeys(t.db, user.id)).map((k) => k.id)).toEqual([added.id, second.id]);

    await removeSshKey(t.db, user.id, added.id);
    expect((await getSshKeys(t.db, user.id)).map((k) => k.id)).toEqual([second.id]);
    await expectAppError(removeSshKey(t.db, user.id, added.id), "not_found");
  });

  it("refuses a key twice for the same user, but another user may add it", async () => {
    const { user } = await createActiveUser(t.db);
    const { user: colleague } = await createActiveUser(t.db);
    const line = ed25519PublicKey("shared");
    await addSshKey(t.db, user.id, { publicKey: line });
    const dup = await expectAppError(addSshKey(t.db, user.id, { publicKey: line.replace("shared", "other comment") }), "validation");
    expect(dup.details?.fieldErrors).toEqual({ publicKey: ["You have already added this key."] });
    expect((await addSshKey(t.db, colleague.id, { publicKey: line })).userId).toBe(colleague.id);
  });

  it("refuses malformed keys with a field error, and another user's key cannot be removed", async () => {
    const { user } = await createActiveUser(t.db);
    const { user: intruder } = await createActiveUser(t.db);
    const bad = await expectAppError(addSshKey(t.db, user.id, { publicKey: "-----BEGIN OPENSSH PRIVATE KEY-----" }), "validation", /private key/);
    expect(bad.details?.fieldErrors?.publicKey).toHaveLength(1);
    await expectAppError(addSshKey(t.db, user.id, { publicKey: "" }), "validation");

    const key = await addSshKey(t.db, user.id, { publicKey: ed25519PublicKey("mine") });
    await expectAppError(removeSshKey(t.db, intruder.id, key.id), "not_found");
    await expectAppError(removeSshKey(t.db, user.id, randomUUID()), "not_found");
    expect(await getSshKeys(t.db, user.id)).toHaveLength(1);
  });
});
