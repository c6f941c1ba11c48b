// Directory accounts against a real slapd (the sign-in harness's private server, whose
// ou=people Kiln writes into as the rootdn) and a real PostgreSQL: every account change
// reaches the directory through the reconciler, and an entry Kiln did not make is never touched.
// Longer than the house's ~350 lines on purpose: the scenarios share one slapd, one database and
// their helpers, and each reads as one account's story; split, they would repeat the setup.
import { Client } from "ldapts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDirectoryEntryById, listDirectoryEntries } from "@/db/queries/directory";
import { listOutboxMailTo } from "@/db/queries/outbox";
import { createUser, getUserByEmail } from "@/db/queries/users";
import { createActiveUser, expectAppError, testContext, uniqueEmail } from "@/test/harness/fixtures";
import { useTestDb } from "@/test/harness/database";
import { as, seedLeaseWorld } from "@/test/harness/inventory";
import { setTestEnv, setTestEnvDefaults } from "@/test/harness/env";
import { canBindAs, startSlapd, stopSlapd, type SlapdHandle } from "@/test/harness/slapd";
import { closedPort, extractLink, linkToken } from "@/test/harness/smtp";
import { syncDirectoryJob } from "@/workers/jobs/sync-directory";
import { actorOf } from "../access/actor";
import { searchAudit } from "../audit/audit";
import { deleteUserAsAdmin, updateUserAsAdmin } from "../accounts/admin";
import { changePassword, updateProfile } from "../accounts/profile";
import { registerUser } from "../accounts/register";
import { requestPasswordReset, resetPassword } from "../accounts/password-reset";
import { verifyEmail } from "../accounts/verification";
import { stopJobSender } from "../jobs/enqueue";
import { createLease, releaseLease } from "../leases/leases";
import { addProjectMember } from "../projects/projects";
import { getEnv } from "../env";
import { directoryConfigFromEnv, type DirectoryConfig } from "./config";
import { linkDirectoryEntryAsAdmin, resyncDirectoryAsAdmin } from "./admin";
import { checkDirectory, kilnMarker, syncDirectory } from "./sync";

const t = await useTestDb();
let ldap: SlapdHandle;
let config: DirectoryConfig;
let admin: Awaited<ReturnType<typeof createActiveUser>>["user"];
const PEOPLE = "ou=people,dc=kiln,dc=test";
const PASSWORD = "violet-lantern-orbit-42";
const NEW_PASSWORD = "copper-meadow-falcon-77";

beforeAll(async () => {
  ldap = await startSlapd();
  setTestEnvDefaults({
    KILN_DIRECTORY_URL: ldap.url,
    KILN_DIRECTORY_BIND_DN: ldap.bindDn,
    KILN_DIRECTORY_BIND_PASSWORD: ldap.bindPassword,
    KILN_DIRECTORY_PEOPLE_DN: PEOPLE,
    KILN_DIRECTORY_UID_RANGE: "30000-30999",
    KILN_DIRECTORY_GID_RANGE: "40000-40999",
    LDAP_TIMEOUT_MS: "2000",
  });
  config = directoryConfigFromEnv(getEnv())!;
  admin = (await createActiveUser(t.db, { admin: true, email: uniqueEmail("dir-admin") })).user;
  await syncDirectory(t.db, config);
});
afterAll(async () => {
  await stopJobSender();
  if (ldap) await stopSlapd(ldap);
});

const canBind = (dn: string, password: string) => canBindAs(ldap.url, dn, password);

async function readEntry(dn: string): Promise<Record<string, unknown> | null> {
  const client = new Client({ url: ldap.url });
  try {
    await client.bind(ldap.bindDn, ldap.bindPassword);
    const { searchEntries } = await client.search(dn, { scope: "base", attributes: ["*"] });
    return searchEntries[0] ?? null;
  } catch (e) {
    if ((e as Error).name === "NoSuchObjectError") return null;
    throw e;
  } finally {
    await client.unbind().catch(() => {});
  }
}

async function addForeignEntry(uid: string): Promise<string> {
  const dn = `uid=${uid},${PEOPLE}`;
  const client = new Client({ url: ldap.url });
  await client.bind(ldap.bindDn, ldap.bindPassword);
  await client.add(dn, { objectClass: ["inetOrgPerson"], uid, cn: "Someone Else", sn: "Else", description: "hand-made by the lab" });
  await client.unbind();
  return dn;
}

async function entryOf(userId: string) {
  return (await listDirectoryEntries(t.db)).find((e) => e.userId === userId);
}

async function registerAndVerify(email: string, name = "Rita Researcher") {
  await registerUser(t.db, { email, name, password: PASSWORD }, testContext());
  const [mail] = await listOutboxMailTo(t.db, email);
  return verifyEmail(t.db, linkToken(extractLink(mail!.text, "/verify/")));
}

describe("directory accounts", () => {
  it("slapd is reachable with the configured bind and people OU", async () => {
    expect(await checkDirectory(config)).toMatchObject({ configured: true, bindOk: true, peopleDnOk: true, error: null });
    expect(await checkDirectory(null)).toMatchObject({ configured: false });
  });

  it("register → verify creates the entry with the chosen password ({CRYPT}$6$, verified by slapd)", async () => {
    const email = uniqueEmail("rita");
    await registerUser(t.db, { email, name: "Rita Marie Researcher", password: PASSWORD }, testContext());
    const pending = (await getUserByEmail(t.db, email))!;
    expect(pending.directoryPasswordHash).toMatch(/^\{CRYPT\}\$6\$rounds=50000\$[./0-9A-Za-z]{16}\$/);
    // Not verified yet: no entry.
    expect(await entryOf(pending.id)).toBeUndefined();

    const [mail] = await listOutboxMailTo(t.db, email);
    await verifyEmail(t.db, linkToken(extractLink(mail!.text, "/verify/")));
    const row = (await entryOf(pending.id))!;
    expect(row).toMatchObject({ uid: email.split("@")[0], dn: `uid=${email.split("@")[0]},${PEOPLE}`, origin: "created", desired: "present", syncedVersion: 0 });
    expect(row.uidNumber).toBeGreaterThanOrEqual(30000);
    expect(row.gidNumber).toBe(row.uidNumber + 10000);

    expect(await syncDirectory(t.db, config)).toMatchObject({ written: 1, failed: 0, refused: 0 });
    const entry = (await readEntry(row.dn))!;
    expect(entry).toMatchObject({
      uid: row.uid,
      cn: "Rita Marie Researcher",
      sn: "Researcher",
      givenName: "Rita Marie",
      mail: email,
      uidNumber: String(row.uidNumber),
      gidNumber: String(row.gidNumber),
      homeDirectory: `/home/${row.uid}`,
      loginShell: "/bin/bash",
      description: kilnMarker(row.id),
    });
    expect(await canBind(row.dn, PASSWORD)).toBe(true);
    // Kiln's own entry is not one to link (only refused ones are): a clear 409, nothing changes.
    await expectAppError(linkDirectoryEntryAsAdmin(t.db, actorOf(admin, null), row.id), "conflict");
    expect((await entryOf(pending.id))!.origin).toBe("created");
    expect(await canBind(row.dn, "not-the-password-1")).toBe(false);
    expect((await getDirectoryEntryById(t.db, row.id))!).toMatchObject({ syncedVersion: row.version, lastError: null });

    // Running again writes nothing: nothing is pending.
    expect(await syncDirectory(t.db, config)).toMatchObject({ written: 0 });
    const audit = await searchAudit(t.db, { action: "directory.entry.create" });
    expect(audit.data.some((a: { targetId: string | null }) => a.targetId === row.id)).toBe(true);
  });

  it("a password change and a reset update the entry: the old password stops binding, the new one binds", async () => {
    const email = uniqueEmail("pat");
    await registerAndVerify(email);
    let user = (await getUserByEmail(t.db, email))!;
    await syncDirectory(t.db, config);
    const { dn } = (await entryOf(user.id))!;
    expect(await canBind(dn, PASSWORD)).toBe(true);

    await changePassword(t.db, user, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
    await syncDirectory(t.db, config);
    expect(await canBind(dn, PASSWORD)).toBe(false);
    expect(await canBind(dn, NEW_PASSWORD)).toBe(true);

    const RESET = "saffron-glacier-piano-19";
    await requestPasswordReset(t.db, { email }, testContext());
    const mails = await listOutboxMailTo(t.db, email);
    const reset = mails.find((m) => m.text.includes("/reset-password/"))!;
    await resetPassword(t.db, { token: linkToken(extractLink(reset.text, "/reset-password/")), password: RESET });
    await syncDirectory(t.db, config);
    expect(await canBind(dn, NEW_PASSWORD)).toBe(false);
    expect(await canBind(dn, RESET)).toBe(true);

    // A new name follows into cn/sn.
    user = (await getUserByEmail(t.db, email))!;
    await updateProfile(t.db, user, { name: "Patricia Newname" });
    await syncDirectory(t.db, config);
    expect(await readEntry(dn)).toMatchObject({ cn: "Patricia Newname", sn: "Newname", givenName: "Patricia" });
  });

  it("disable locks the entry (kept, bind fails); enable unlocks it; delete removes it", async () => {
    const { user } = await createActiveUser(t.db, { email: uniqueEmail("dora"), password: PASSWORD, name: "Dora" });
    await syncDirectory(t.db, config);
    const row = (await entryOf(user.id))!;
    expect(await canBind(row.dn, PASSWORD)).toBe(true);

    await updateUserAsAdmin(t.db, admin, user.id, { disabled: true });
    expect((await entryOf(user.id))!.desired).toBe("disabled");
    expect(await syncDirectory(t.db, config)).toMatchObject({ written: 1 });
    expect(await readEntry(row.dn)).not.toBeNull();
    expect(await canBind(row.dn, PASSWORD)).toBe(false);

    await updateUserAsAdmin(t.db, admin, user.id, { disabled: false });
    await syncDirectory(t.db, config);
    expect(await canBind(row.dn, PASSWORD)).toBe(true);

    await deleteUserAsAdmin(t.db, admin, user.id, testContext());
    expect(await getUserByEmail(t.db, user.email)).toBeUndefined();
    // The row outlives the account until the directory agrees.
    expect(await getDirectoryEntryById(t.db, row.id)).toMatchObject({ desired: "absent", userId: null });
    expect(await syncDirectory(t.db, config)).toMatchObject({ removed: 1 });
    expect(await readEntry(row.dn)).toBeNull();
    // Kept, synced, as the record that this uid and uidNumber were used.
    const kept = (await getDirectoryEntryById(t.db, row.id))!;
    expect(kept).toMatchObject({ desired: "absent", uidNumber: row.uidNumber });
    expect(kept.syncedVersion).toBe(kept.version);
    const audit = await searchAudit(t.db, { action: "directory.entry" });
    const actions = audit.data.filter((a: { targetId: string | null }) => a.targetId === row.id).map((a: { action: string }) => a.action);
    expect(actions).toEqual(expect.arrayContaining(["directory.entry.create", "directory.entry.disable", "directory.entry.update", "directory.entry.remove"]));
  });

  it("deleting someone whose lease history keeps the account (a tombstone) removes the entry; their address registers again and gets a new one", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 1 });
    const email = uniqueEmail("tess");
    const { user } = await createActiveUser(t.db, { email, password: PASSWORD, name: "Tess" });
    await addProjectMember(t.db, w.adminActor, w.projects[0]!.id, { userId: user.id });
    const lease = await createLease(t.db, as(user), { poolId: w.pool.id, count: 1, durationHours: 2 });
    await releaseLease(t.db, as(user), lease.id);
    await syncDirectory(t.db, config);
    const row = (await entryOf(user.id))!;
    expect(await canBind(row.dn, PASSWORD)).toBe(true);

    expect(await deleteUserAsAdmin(t.db, admin, user.id, testContext())).toEqual({ outcome: "anonymised" });
    // The account stays (the lease names it), its row says absent until the directory agrees.
    expect(await getDirectoryEntryById(t.db, row.id)).toMatchObject({ desired: "absent", userId: user.id });
    expect(await syncDirectory(t.db, config)).toMatchObject({ removed: 1, failed: 0 });
    expect(await readEntry(row.dn)).toBeNull();
    expect(await getDirectoryEntryById(t.db, row.id)).toMatchObject({ desired: "absent", userId: user.id });
    // A later re-sync has nothing to give the tombstone back.
    await resyncDirectoryAsAdmin(t.db, actorOf(admin, null));
    expect(await syncDirectory(t.db, config)).toMatchObject({ removed: 0 });
    expect(await entryOf(user.id)).toMatchObject({ desired: "absent" });
    expect(await readEntry(row.dn)).toBeNull();

    // Same address, new person: a new account and a new entry (the old uid is free again).
    const fresh = await registerAndVerify(email, "Tess Again");
    expect(fresh).toMatchObject({ email, status: "active" });
    const again = (await getUserByEmail(t.db, email))!;
    expect(again.id).not.toBe(user.id);
    await syncDirectory(t.db, config);
    const newRow = (await entryOf(again.id))!;
    // The old uid and uidNumber are not reused: files the old account left stay not theirs.
    expect(newRow.uid).toBe(`${row.uid}2`);
    expect(newRow.uidNumber).not.toBe(row.uidNumber);
    expect(await canBind(newRow.dn, PASSWORD)).toBe(true);
  });

  it("refuses a foreign entry at the same dn (untouched, last_error set); after the admin links it, Kiln manages it", async () => {
    const email = uniqueEmail("frank");
    const uid = email.split("@")[0]!;
    const dn = await addForeignEntry(uid);
    const { user } = await createActiveUser(t.db, { email, password: PASSWORD, name: "Frank Kiln" });
    expect(await syncDirectory(t.db, config)).toMatchObject({ refused: 1, written: 0 });
    const row = (await entryOf(user.id))!;
    expect(row.lastError).toBe(`An entry ${dn} already exists in the directory and Kiln did not create it; an administrator can link it to this account on the Directory page.`);
    expect(row.syncedVersion).toBeLessThan(row.version);
    expect(await readEntry(dn)).toMatchObject({ cn: "Someone Else", description: "hand-made by the lab" });
    expect(await canBind(dn, PASSWORD)).toBe(false);
    // Retried every run, still refused, audited once.
    await syncDirectory(t.db, config);
    const refusals = (await searchAudit(t.db, { action: "directory.entry.refused" })).data.filter((a: { targetId: string | null }) => a.targetId === row.id);
    expect(refusals).toHaveLength(1);

    await expectAppError(linkDirectoryEntryAsAdmin(t.db, actorOf(user, null), row.id), "forbidden");
    await linkDirectoryEntryAsAdmin(t.db, actorOf(admin, null), row.id);
    expect(await syncDirectory(t.db, config)).toMatchObject({ written: 1, refused: 0 });
    expect(await readEntry(dn)).toMatchObject({ cn: "Frank Kiln", mail: email, description: "hand-made by the lab", uidNumber: String(row.uidNumber) });
    expect(await canBind(dn, PASSWORD)).toBe(true);
    expect((await entryOf(user.id))!).toMatchObject({ origin: "linked", lastError: null });
    expect((await searchAudit(t.db, { action: "directory.entry.link" })).data.some((a: { targetId: string | null }) => a.targetId === row.id)).toBe(true);
    // Linking twice is refused: it is already linked.
    await expectAppError(linkDirectoryEntryAsAdmin(t.db, actorOf(admin, null), row.id), "conflict");
  });

  it("a foreign entry is never deleted: an account refused and then deleted leaves the entry as it was", async () => {
    const email = uniqueEmail("gina");
    const dn = await addForeignEntry(email.split("@")[0]!);
    const { user } = await createActiveUser(t.db, { email, password: PASSWORD });
    await syncDirectory(t.db, config);
    await deleteUserAsAdmin(t.db, admin, user.id);
    await syncDirectory(t.db, config);
    expect(await readEntry(dn)).toMatchObject({ description: "hand-made by the lab" });
  });

  it("leaves LDAP-sourced accounts alone", async () => {
    const ldapUser = await createUser(t.db, { email: uniqueEmail("ldapper"), name: "L", authSource: "ldap", ldapUsername: `ldapper${Date.now()}`, emailVerifiedAt: new Date(), approvedAt: new Date() });
    await updateUserAsAdmin(t.db, admin, ldapUser.id, { disabled: true });
    await updateUserAsAdmin(t.db, admin, ldapUser.id, { disabled: false });
    expect(await entryOf(ldapUser.id)).toBeUndefined();
  });

  it("gives a second person with the same local part a numbered uid and the next uidNumber", async () => {
    const local = `same${Date.now()}`;
    const { user: a } = await createActiveUser(t.db, { email: `${local}@one.example`, password: PASSWORD });
    const { user: b } = await createActiveUser(t.db, { email: `${local}@two.example`, password: PASSWORD });
    const ra = (await entryOf(a.id))!;
    const rb = (await entryOf(b.id))!;
    expect(ra.uid).toBe(local);
    expect(rb.uid).toBe(`${local}2`);
    expect(rb.uidNumber).not.toBe(ra.uidNumber);
    await syncDirectory(t.db, config);
    expect(await canBind(rb.dn, PASSWORD)).toBe(true);
  });

  it("a crash after commit (no job ran) is mended by the scheduled reconcile", async () => {
    expect(syncDirectoryJob).toMatchObject({ cron: "* * * * *", runAtStart: true });
    const { user } = await createActiveUser(t.db, { email: uniqueEmail("crash"), password: PASSWORD });
    const row = (await entryOf(user.id))!;
    expect(row.syncedVersion).toBeLessThan(row.version);
    expect(await readEntry(row.dn)).toBeNull();
    // What the worker runs every minute and at start.
    await syncDirectoryJob.handler(t.db, {});
    expect(await canBind(row.dn, PASSWORD)).toBe(true);
    // Running again is harmless.
    await syncDirectoryJob.handler(t.db, {});
    expect((await entryOf(user.id))!.lastError).toBeNull();
  });

  it("directory down: the error is recorded on the row, and the next run writes it", async () => {
    const down = { ...config, url: `ldap://127.0.0.1:${await closedPort()}`, timeoutMs: 500 };
    const { user } = await createActiveUser(t.db, { email: uniqueEmail("down"), password: PASSWORD });
    const result = await syncDirectory(t.db, down);
    expect(result.failed).toBeGreaterThanOrEqual(1);
    const row = (await entryOf(user.id))!;
    expect(row.lastError).toMatch(/cannot be reached/);
    expect(row.syncedVersion).toBeLessThan(row.version);
    expect((await checkDirectory(down)).error).toMatch(/cannot be reached/);

    await syncDirectory(t.db, config);
    expect((await entryOf(user.id))!).toMatchObject({ lastError: null, syncedVersion: row.version });
    expect(await canBind(row.dn, PASSWORD)).toBe(true);
  });

  it("re-sync all marks every row for writing again and restores an entry changed behind Kiln's back", async () => {
    const { user } = await createActiveUser(t.db, { email: uniqueEmail("resync"), password: PASSWORD, name: "Re Sync" });
    await syncDirectory(t.db, config);
    const row = (await entryOf(user.id))!;
    const client = new Client({ url: ldap.url });
    await client.bind(ldap.bindDn, ldap.bindPassword);
    const { Attribute, Change } = await import("ldapts");
    await client.modify(row.dn, new Change({ operation: "replace", modification: new Attribute({ type: "cn", values: ["Tampered"] }) }));
    await client.unbind();

    await expectAppError(resyncDirectoryAsAdmin(t.db, actorOf(user, null)), "forbidden");
    const { marked } = await resyncDirectoryAsAdmin(t.db, actorOf(admin, null));
    expect(marked).toBeGreaterThanOrEqual(1);
    await syncDirectory(t.db, config);
    expect(await readEntry(row.dn)).toMatchObject({ cn: "Re Sync" });
  });

  it("with approval, the entry waits for the admin's approval", async () => {
    setTestEnv({ KILN_REGISTRATION: "approval" });
    try {
      const email = uniqueEmail("appr");
      expect((await registerAndVerify(email)).status).toBe("pending_approval");
      const user = (await getUserByEmail(t.db, email))!;
      expect(await entryOf(user.id)).toBeUndefined();
      await updateUserAsAdmin(t.db, admin, user.id, { approved: true });
      await syncDirectory(t.db, config);
      expect(await canBind((await entryOf(user.id))!.dn, PASSWORD)).toBe(true);
    } finally {
      setTestEnv();
    }
  });

  it("runs one reconciler at a time: an overlapping run steps aside, and nothing is written twice", async () => {
    const { user } = await createActiveUser(t.db, { email: uniqueEmail("twice"), password: PASSWORD });
    const [a, b] = await Promise.all([syncDirectory(t.db, config), syncDirectory(t.db, config)]);
    expect([a.busy, b.busy].filter(Boolean)).toHaveLength(1);
    expect(a.written + b.written).toBe(1);
    expect((await entryOf(user.id))!.lastError).toBeNull();
  });

  it("with the ssha scheme, the entry carries {SSHA}; binds work, and a disabled account's lock holds", async () => {
    setTestEnv({ KILN_DIRECTORY_PASSWORD_SCHEME: "ssha" });
    try {
      const { user } = await createActiveUser(t.db, { email: uniqueEmail("ssha"), password: PASSWORD });
      expect(user.directoryPasswordHash).toMatch(/^\{SSHA\}/);
      await syncDirectory(t.db, config);
      const { dn } = (await entryOf(user.id))!;
      expect(await canBind(dn, PASSWORD)).toBe(true);
      await updateUserAsAdmin(t.db, admin, user.id, { disabled: true });
      await syncDirectory(t.db, config);
      expect(await canBind(dn, PASSWORD)).toBe(false);
    } finally {
      setTestEnv();
    }
  });

  it("re-sync all gives accounts made before the directory was configured an entry (without a password until they set one)", async () => {
    setTestEnv({ KILN_DIRECTORY_URL: undefined });
    const { user } = await createActiveUser(t.db, { email: uniqueEmail("before"), password: PASSWORD, name: "Early Bird" });
    setTestEnv();
    expect(await entryOf(user.id)).toBeUndefined();
    const { added } = await resyncDirectoryAsAdmin(t.db, actorOf(admin, null));
    expect(added).toBeGreaterThanOrEqual(1);
    await syncDirectory(t.db, config);
    const row = (await entryOf(user.id))!;
    expect(await readEntry(row.dn)).toMatchObject({ cn: "Early Bird" });
    expect((await readEntry(row.dn))!.userPassword).toBeUndefined();
    expect(await canBind(row.dn, PASSWORD)).toBe(false);
    // Their next password change gives the entry its password.
    await changePassword(t.db, (await getUserByEmail(t.db, user.email))!, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
    await syncDirectory(t.db, config);
    expect(await canBind(row.dn, NEW_PASSWORD)).toBe(true);
  });

  it("without a directory configured, account changes write no rows and no hash", async () => {
    setTestEnv({ KILN_DIRECTORY_URL: undefined });
    try {
      const { user } = await createActiveUser(t.db, { email: uniqueEmail("nodir"), password: PASSWORD });
      expect(user.directoryPasswordHash).toBeNull();
      expect(await entryOf(user.id)).toBeUndefined();
    } finally {
      setTestEnv();
    }
  });
});
