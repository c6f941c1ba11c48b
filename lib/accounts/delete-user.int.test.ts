// Deleting an account (admins): refused for oneself, the last admin, and while the person
// holds leases; a person whose leases are history is kept (disable instead); others go, audited.
import { afterAll, describe, expect, it } from "vitest";
import { getUserById, listUsers, updateUser } from "@/db/queries/users";
import { createActiveUser, expectAppError, testContext } from "@/test/harness/fixtures";
import { useTestDb } from "@/test/harness/database";
import { as, seedLeaseWorld } from "@/test/harness/inventory";
import { searchAudit } from "../audit/audit";
import { stopJobSender } from "../jobs/enqueue";
import { createLease, releaseLease } from "../leases/leases";
import { addSshKey } from "./profile";
import { deleteUserAsAdmin, updateUserAsAdmin } from "./admin";

const t = await useTestDb();
afterAll(() => stopJobSender());

const SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl someone@laptop";

describe("deleting a user", () => {
  it("deletes an account with its keys, audited with the email", async () => {
    const { user: admin } = await createActiveUser(t.db, { admin: true });
    const { user } = await createActiveUser(t.db);
    await addSshKey(t.db, user.id, { publicKey: SSH_KEY });
    await deleteUserAsAdmin(t.db, admin, user.id, testContext());
    expect(await getUserById(t.db, user.id)).toBeUndefined();
    const audit = await searchAudit(t.db, { action: "user.delete" });
    expect(audit.data.find((a: { targetId: string | null }) => a.targetId === user.id)).toMatchObject({ actorEmail: admin.email, summary: `deleted user ${user.email}` });
    await expectAppError(deleteUserAsAdmin(t.db, admin, user.id), "not_found", "That user does not exist.");
  });

  it("refuses oneself and the last active administrator", async () => {
    const { user: admin } = await createActiveUser(t.db, { admin: true });
    await expectAppError(deleteUserAsAdmin(t.db, admin, admin.id), "conflict", "You cannot delete your own account.");
    // Make `last` the only active administrator; `admin` (disabled now) still asks.
    const { user: last } = await createActiveUser(t.db, { admin: true });
    const { rows } = await listUsers(t.db, { filter: "admins", limit: 1000, offset: 0 });
    for (const other of rows) if (other.id !== last.id) await updateUser(t.db, other.id, { disabledAt: new Date() });
    await expectAppError(deleteUserAsAdmin(t.db, admin, last.id), "conflict", /last active administrator/);
    expect(await getUserById(t.db, last.id)).toBeDefined();
    for (const other of rows) await updateUser(t.db, other.id, { disabledAt: null });
  });

  it("refuses while the person holds a lease ('release … first'), then refuses history (disable instead)", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 1 });
    const ann = w.members[0]![0]!;
    const lease = await createLease(t.db, as(ann), { poolId: w.pool.id, count: 1, durationHours: 2 });
    await expectAppError(deleteUserAsAdmin(t.db, w.admin, ann.id), "conflict", `${ann.email} holds 1 active lease: release or cancel it first.`);
    await releaseLease(t.db, w.adminActor, lease.id);
    await expectAppError(deleteUserAsAdmin(t.db, w.admin, ann.id), "conflict", /past leases or reservations.*disable the account instead/);
    expect(await getUserById(t.db, ann.id)).toBeDefined();
    // Nothing of the refused attempt was kept.
    expect((await searchAudit(t.db, { action: "user.delete" })).data.some((a: { targetId: string | null }) => a.targetId === ann.id)).toBe(false);
  });
});
