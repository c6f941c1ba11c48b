import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { listOutboxMailTo } from "@/db/queries/outbox";
import { getUserById, listUsers, updateUser } from "@/db/queries/users";
import { createActiveUser, expectAppError, uniqueEmail } from "@/test/harness/fixtures";
import { useTestDb } from "@/test/harness/database";
import { setTestEnv } from "@/test/harness/env";
import { unusedSmtpUrl } from "@/test/harness/smtp";
import { searchUsers, updateUserAsAdmin } from "./admin";

const t = await useTestDb();

describe("user administration", () => {
  it("never lets the last active administrator be demoted or disabled", async () => {
    // Start from a directory without admins, whatever earlier tests in this file created.
    const { rows: admins } = await listUsers(t.db, { filter: "admins", limit: 1000, offset: 0 });
    for (const a of admins) await updateUser(t.db, a.id, { role: "user" });
    expect((await listUsers(t.db, { filter: "admins", limit: 1, offset: 0 })).total).toBe(0);
    const { user: first } = await createActiveUser(t.db, { admin: true });
    const LAST = /last active administrator/;

    await expectAppError(updateUserAsAdmin(t.db, first, first.id, { role: "user" }), "conflict", LAST);
    await expectAppError(updateUserAsAdmin(t.db, first, first.id, { disabled: true }), "conflict", LAST);
    expect((await getUserById(t.db, first.id))!.role).toBe("admin");

    // A disabled admin does not count as a remaining administrator.
    const { user: dormant } = await createActiveUser(t.db, { admin: true });
    await updateUserAsAdmin(t.db, first, dormant.id, { disabled: true });
    await expectAppError(updateUserAsAdmin(t.db, first, first.id, { role: "user" }), "conflict", LAST);

    // With a second active admin, one of them may step down; then the other is the last.
    const { user: second } = await createActiveUser(t.db, { admin: true });
    expect((await updateUserAsAdmin(t.db, second, first.id, { role: "user" })).role).toBe("user");
    await expectAppError(updateUserAsAdmin(t.db, second, second.id, { role: "user" }), "conflict", LAST);
  });

  it("does not let an admin disable their own account", async () => {
    const { user: a } = await createActiveUser(t.db, { admin: true });
    await createActiveUser(t.db, { admin: true });
    await expectAppError(updateUserAsAdmin(t.db, a, a.id, { disabled: true }), "conflict", "You cannot disable your own account.");
  });

  it("validates its input and reports unknown users", async () => {
    const { user: admin } = await createActiveUser(t.db, { admin: true });
    await expectAppError(updateUserAsAdmin(t.db, admin, randomUUID(), { role: "user" }), "not_found");
    const err = await expectAppError(updateUserAsAdmin(t.db, admin, admin.id, { role: "root" }), "validation");
    expect(Object.keys(err.details?.fieldErrors ?? {})).toEqual(["role"]);
  });

  it("keeps an approval when the approval mail cannot be sent", async () => {
    const { user: admin } = await createActiveUser(t.db, { admin: true });
    const { user } = await createActiveUser(t.db);
    await updateUser(t.db, user.id, { approvedAt: null });
    setTestEnv({ SMTP_URL: await unusedSmtpUrl() });
    expect((await updateUserAsAdmin(t.db, admin, user.id, { approved: true })).status).toBe("active");
    expect(await listOutboxMailTo(t.db, user.email)).toEqual([]);
  });

  it("finds users by text and by state", async () => {
    const email = uniqueEmail("findme");
    const { user } = await createActiveUser(t.db, { email, name: "Ada 100%_Lovelace" });
    const byText = await searchUsers(t.db, { q: "100%_love" });
    expect(byText.data.map((u) => u.id)).toEqual([user.id]);
    // % and _ are literal characters in the search, not wildcards.
    expect((await searchUsers(t.db, { q: "Ada%Love" })).pagination.total).toBe(0);
    await updateUser(t.db, user.id, { emailVerifiedAt: null });
    const pending = await searchUsers(t.db, { filter: "pending" });
    expect(pending.data.find((u) => u.id === user.id)?.status).toBe("pending_verification");
  });
});
