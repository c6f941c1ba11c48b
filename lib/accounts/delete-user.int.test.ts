// Deleting an account (admins): refused for oneself, the last admin, and while the person holds
// leases or has reservations not yet over. Someone whose past leases or reservations name them
// becomes a tombstone ("Deleted user": personal data and credentials gone, devices revoked,
// directory entry marked absent, history intact); anyone else is deleted for good. Audited.
import { afterAll, describe, expect, it } from "vitest";
import { listDirectoryEntries } from "@/db/queries/directory";
import { listOutboxMailTo } from "@/db/queries/outbox";
import { listApiTokens, listSessionsOfUser } from "@/db/queries/auth";
import { getUserByEmail, getUserById, listSshKeys, listUsers, updateUser } from "@/db/queries/users";
import { listVpnDevicesOfUser } from "@/db/queries/vpn";
import { createActiveUser, expectAppError, TEST_PASSWORD, testContext } from "@/test/harness/fixtures";
import { useTestDb } from "@/test/harness/database";
import { setTestEnv } from "@/test/harness/env";
import { as, seedLeaseWorld } from "@/test/harness/inventory";
import { closedPort } from "@/test/harness/smtp";
import { searchAudit } from "../audit/audit";
import { authenticateApiToken, createApiToken } from "../auth/api-tokens";
import { authenticateWithPassword } from "../auth/authenticate";
import { resolveSession, startSession } from "../auth/sessions";
import { stopJobSender } from "../jobs/enqueue";
import { createLease, getLease, listLeases, releaseLease } from "../leases/leases";
import { addProjectMember, getMyProjects } from "../projects/projects";
import { cancelReservation, createReservation } from "../reservations/reservations";
import { createVpnDevice, listMyVpnDevices } from "../vpn/devices";
import { generateKeyPair } from "../vpn/wireguard";
import { addSshKey } from "./profile";
import { registerUser } from "./register";
import { deleteUserAsAdmin, placeholderEmailOf, searchUsers, updateUserAsAdmin } from "./admin";
import { getUserStatus } from "../users/user-view";

const t = await useTestDb();
afterAll(() => stopJobSender());

const SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl someone@laptop";

/** A directory (never contacted here: only the rows Kiln keeps are checked) and WireGuard, configured. */
async function withDirectoryAndVpn(range: string) {
  setTestEnv({
    KILN_DIRECTORY_URL: `ldap://127.0.0.1:${await closedPort()}`,
    KILN_DIRECTORY_BIND_DN: "cn=admin,dc=kiln,dc=test",
    KILN_DIRECTORY_BIND_PASSWORD: "secret",
    KILN_DIRECTORY_PEOPLE_DN: "ou=people,dc=kiln,dc=test",
    KILN_DIRECTORY_UID_RANGE: "30000-30999",
    KILN_DIRECTORY_GID_RANGE: "40000-40999",
    KILN_VPN_ENDPOINT: "vpn.lab.example:51820",
    KILN_VPN_SERVER_PUBLIC_KEY: generateKeyPair().publicKey,
    KILN_VPN_ALLOWED_IPS: "10.20.0.0/16",
    KILN_VPN_ADDRESS_RANGE: range,
  });
}

async function entryOf(userId: string) {
  return (await listDirectoryEntries(t.db)).find((e) => e.userId === userId);
}

describe("deleting a user", () => {
  it("deletes an account without history for good, with its keys, audited with the email", async () => {
    const { user: admin } = await createActiveUser(t.db, { admin: true });
    const { user } = await createActiveUser(t.db);
    await addSshKey(t.db, user.id, { publicKey: SSH_KEY });
    expect(await deleteUserAsAdmin(t.db, admin, user.id, testContext())).toEqual({ outcome: "deleted" });
    expect(await getUserById(t.db, user.id)).toBeUndefined();
    const audit = await searchAudit(t.db, { action: "user.delete" });
    expect(audit.data.find((a: { targetId: string | null }) => a.targetId === user.id)).toMatchObject({ actorEmail: admin.email, summary: `deleted user ${user.email}` });
    await expectAppError(deleteUserAsAdmin(t.db, admin, user.id), "not_found", "That user does not exist.");
  });

  it("deletes an account without history and marks its directory entry absent (the row outlives it until the reconciler removes the entry)", async () => {
    await withDirectoryAndVpn("10.201.0.0/24");
    const { user: admin } = await createActiveUser(t.db, { admin: true });
    const { user } = await createActiveUser(t.db);
    const entry = (await entryOf(user.id))!;
    expect(entry).toMatchObject({ desired: "present" });
    expect(await deleteUserAsAdmin(t.db, admin, user.id)).toEqual({ outcome: "deleted" });
    const after = (await listDirectoryEntries(t.db)).find((e) => e.id === entry.id);
    expect(after).toMatchObject({ desired: "absent", userId: null });
  });

  it("refuses oneself and the last active administrator", async () => {
    const { user: admin } = await createActiveUser(t.db, { admin: true });
    await expectAppError(deleteUserAsAdmin(t.db, admin, admin.id), "conflict", "You cannot delete your own account.");
    // Make `last` the only active administrator; `admin` (disabled now) still asks.
    const { user: last } = await createActiveUser(t.db, { admin: true });
    const { rows } = await listUsers(t.db, { filter: "admins", limit: 1000, offset: 0 });
    for (const other of rows) if (other.id !== last.id) await updateUser(t.db, other.id, { disabledAt: new Date() });
    await expectAppError(deleteUserAsAdmin(t.db, admin, last.id), "conflict", /last active administrator/);
    expect(await getUserById(t.db, last.id)).toMatchObject({ deletedAt: null });
    for (const other of rows) await updateUser(t.db, other.id, { disabledAt: null });
  });

  it("refuses while the person holds a lease ('release … first'), writing nothing", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 1 });
    const ann = w.members[0]![0]!;
    const lease = await createLease(t.db, as(ann), { poolId: w.pool.id, count: 1, durationHours: 2 });
    await expectAppError(deleteUserAsAdmin(t.db, w.admin, ann.id), "conflict", `${ann.email} holds 1 active lease: release or cancel it first.`);
    expect(await getUserById(t.db, ann.id)).toMatchObject({ email: ann.email, deletedAt: null, disabledAt: null });
    expect((await searchAudit(t.db, { action: "user.delete" })).data.some((a: { targetId: string | null }) => a.targetId === ann.id)).toBe(false);
    await releaseLease(t.db, w.adminActor, lease.id);
  });

  it("keeps someone with a released lease as a tombstone: personal data and credentials gone, devices revoked, directory entry absent, history intact; the address registers again", async () => {
    await withDirectoryAndVpn("10.202.0.0/24");
    const w = await seedLeaseWorld(t.db, { hosts: 1 });
    const { user: ann } = await createActiveUser(t.db, { name: "Ann Example" });
    await addProjectMember(t.db, w.adminActor, w.projects[0]!.id, { userId: ann.id });
    await addSshKey(t.db, ann.id, { publicKey: SSH_KEY });
    const { token } = await createApiToken(t.db, ann.id, { name: "ci" });
    const device = await createVpnDevice(t.db, as(ann), { name: "laptop", publicKey: generateKeyPair().publicKey });
    const entry = (await entryOf(ann.id))!;
    expect(entry).toMatchObject({ desired: "present" });
    const session = await startSession(t.db, await authenticateWithPassword(t.db, { method: "password", login: ann.email, password: TEST_PASSWORD }, testContext()), testContext());
    const lease = await createLease(t.db, as(ann), { poolId: w.pool.id, count: 1, durationHours: 2 });
    await releaseLease(t.db, as(ann), lease.id);

    expect(await deleteUserAsAdmin(t.db, w.admin, ann.id, testContext())).toEqual({ outcome: "anonymised" });

    const tomb = (await getUserById(t.db, ann.id))!;
    expect(tomb).toMatchObject({
      email: placeholderEmailOf(ann.id),
      name: "Deleted user",
      passwordHash: null,
      directoryPasswordHash: null,
      ldapUsername: null,
      role: "user",
    });
    expect(tomb.email).toMatch(/^deleted-[0-9a-f]{32}@deleted\.invalid$/);
    expect(tomb.deletedAt).toBeInstanceOf(Date);
    expect(tomb.disabledAt).toBeInstanceOf(Date);
    expect(getUserStatus(tomb)).toBe("deleted");
    // Credentials and what a real delete would cascade away are gone.
    expect(await listSshKeys(t.db, ann.id)).toEqual([]);
    expect(await listApiTokens(t.db, ann.id)).toEqual([]);
    expect(await listSessionsOfUser(t.db, ann.id)).toEqual([]);
    expect(await getMyProjects(t.db, ann.id)).toEqual([]);
    expect(await resolveSession(t.db, session)).toBeNull();
    await expectAppError(authenticateApiToken(t.db, token), "unauthorized");
    await expectAppError(authenticateWithPassword(t.db, { method: "password", login: ann.email, password: TEST_PASSWORD }, testContext()), "unauthorized");
    await expectAppError(authenticateWithPassword(t.db, { method: "password", login: tomb.email, password: TEST_PASSWORD }, testContext()), "unauthorized");
    // The VPN device is revoked (its row stays as history).
    await expectAppError(listMyVpnDevices(t.db, as(tomb)), "forbidden", "Lab access is for active accounts only.");
    const devices = await listVpnDevicesOfUser(t.db, ann.id, { includeRevoked: true });
    expect(devices.map((d) => [d.id, d.revokedAt instanceof Date])).toEqual([[device.id, true]]);
    // The directory entry is to go: the reconciler removes it, then the row.
    expect(await entryOf(ann.id)).toMatchObject({ id: entry.id, desired: "absent" });
    expect(entry.version).toBeLessThan((await entryOf(ann.id))!.version);

    // History still points at the tombstone and shows "Deleted user".
    const shown = await getLease(t.db, w.adminActor, lease.id);
    expect(shown).toMatchObject({ userId: ann.id, userEmail: "Deleted user" });
    expect(shown.events.filter((e) => e.actorEmail !== null).every((e) => e.actorEmail === "Deleted user")).toBe(true);
    const listed = await listLeases(t.db, w.adminActor, { scope: "all", userId: ann.id });
    expect(listed.data.map((l) => [l.id, l.userEmail])).toEqual([[lease.id, "Deleted user"]]);
    const leaseAudit = await searchAudit(t.db, { targetType: "lease", targetId: lease.id });
    expect(leaseAudit.data.length).toBeGreaterThan(0);
    expect(leaseAudit.data.every((a: { actorEmail: string | null }) => a.actorEmail === "Deleted user")).toBe(true);
    // The audit log is the record of who it was.
    const deletion = (await searchAudit(t.db, { action: "user.delete" })).data.find((a: { targetId: string | null }) => a.targetId === ann.id);
    expect(deletion).toMatchObject({ actorEmail: w.admin.email, summary: expect.stringContaining(`deleted user ${ann.email} (personal data removed`) });

    // Admin → Users: left out by default, listed (as deleted) under the deleted filter.
    expect((await searchUsers(t.db, { q: ann.id.replace(/-/g, "").slice(0, 12) })).data).toEqual([]);
    expect((await searchUsers(t.db, { filter: "all", per_page: 100 })).data.some((u) => u.id === ann.id)).toBe(false);
    const deletedList = await searchUsers(t.db, { filter: "deleted", per_page: 100 });
    expect(deletedList.data.find((u) => u.id === ann.id)).toMatchObject({ status: "deleted", name: "Deleted user" });
    expect(deletedList.data.every((u) => u.status === "deleted")).toBe(true);

    // It cannot be changed back into an account, nor deleted twice.
    await expectAppError(updateUserAsAdmin(t.db, w.admin, ann.id, { disabled: false }), "conflict", /was deleted/);
    await expectAppError(deleteUserAsAdmin(t.db, w.admin, ann.id), "conflict", "This account was already deleted.");
    // Nor added to a project again, by id or by its placeholder address.
    await expectAppError(addProjectMember(t.db, w.adminActor, w.projects[0]!.id, { userId: ann.id }), "validation", /No Kiln account has that email/);
    await expectAppError(addProjectMember(t.db, w.adminActor, w.projects[0]!.id, { email: tomb.email }), "validation", /No Kiln account has that email/);

    // The address is free: registering again makes a fresh, separate account.
    await registerUser(t.db, { email: ann.email, name: "Ann Again", password: "a-new-password-for-ann" }, testContext());
    const fresh = (await getUserByEmail(t.db, ann.email))!;
    expect(fresh.id).not.toBe(ann.id);
    expect(fresh).toMatchObject({ name: "Ann Again", deletedAt: null });
    expect((await listOutboxMailTo(t.db, ann.email)).some((m) => m.text.includes("/verify/"))).toBe(true);
  });

  it("refuses while a reservation is upcoming; once cancelled it is history and the account is kept as a tombstone", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 1 });
    const bob = w.members[0]![0]!;
    const iso = (h: number) => new Date(Date.now() + h * 3600_000).toISOString();
    const reservation = await createReservation(t.db, as(bob), { poolId: w.pool.id, startsAt: iso(48), endsAt: iso(50), title: "course" });
    await expectAppError(deleteUserAsAdmin(t.db, w.admin, bob.id), "conflict", `${bob.email} holds 1 upcoming or running reservation: release or cancel it first.`);
    await cancelReservation(t.db, as(bob), reservation.id);
    expect(await deleteUserAsAdmin(t.db, w.admin, bob.id)).toEqual({ outcome: "anonymised" });
    expect(await getUserById(t.db, bob.id)).toMatchObject({ name: "Deleted user", email: placeholderEmailOf(bob.id) });
  });
});
