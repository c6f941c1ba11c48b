import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { getLiveSession, listSessionsOfUser } from "@/db/queries/auth";
import { updateSessionExpiry } from "@/db/queries/testing";
import { updateUser } from "@/db/queries/users";
import { createActiveUser, testContext } from "@/test/harness/fixtures";
import { useTestDb } from "@/test/harness/database";
import { updateUserAsAdmin } from "../accounts/admin";
import { endSession, resolveSession, startSession } from "./sessions";

const t = await useTestDb();

describe("sessions", () => {
  it("resolves a started session to its user until it is ended", async () => {
    const { user } = await createActiveUser(t.db);
    const sid = await startSession(t.db, user, { ip: "192.0.2.7", userAgent: "x".repeat(500) });
    const row = await getLiveSession(t.db, sid);
    expect(row).toMatchObject({ userId: user.id, ip: "192.0.2.7" });
    expect(row!.userAgent).toHaveLength(300);
    expect(row!.expiresAt.getTime()).toBeGreaterThan(Date.now() + 29 * 24 * 3600_000);

    expect((await resolveSession(t.db, sid))?.id).toBe(user.id);
    await endSession(t.db, sid);
    expect(await resolveSession(t.db, sid)).toBeNull();
  });

  it("returns null for an unknown or expired session", async () => {
    const { user } = await createActiveUser(t.db);
    expect(await resolveSession(t.db, randomUUID())).toBeNull();
    const sid = await startSession(t.db, user, testContext());
    await updateSessionExpiry(t.db, { id: sid, expiresAt: new Date(Date.now() - 1000) });
    expect(await resolveSession(t.db, sid)).toBeNull();
  });

  it("ends a user's sessions at once when an admin disables them, and re-enabling does not revive them", async () => {
    const { user: admin } = await createActiveUser(t.db, { admin: true });
    const { user } = await createActiveUser(t.db);
    const first = await startSession(t.db, user, testContext());
    const second = await startSession(t.db, user, testContext());
    const adminSession = await startSession(t.db, admin, testContext());

    const disabled = await updateUserAsAdmin(t.db, admin, user.id, { disabled: true });
    expect(disabled.status).toBe("disabled");
    expect(await resolveSession(t.db, first)).toBeNull();
    expect(await resolveSession(t.db, second)).toBeNull();
    expect(await listSessionsOfUser(t.db, user.id)).toEqual([]);
    expect((await resolveSession(t.db, adminSession))?.id).toBe(admin.id);

    expect((await updateUserAsAdmin(t.db, admin, user.id, { disabled: false })).status).toBe("active");
    expect(await resolveSession(t.db, first)).toBeNull();
  });

  it("stops resolving a session when its account is disabled by other means", async () => {
    const { user } = await createActiveUser(t.db);
    const sid = await startSession(t.db, user, testContext());
    // Even if the session row survived (say, a direct database change), an inactive account is refused.
    await updateUser(t.db, user.id, { disabledAt: new Date() });
    expect(await resolveSession(t.db, sid)).toBeNull();
  });
});
