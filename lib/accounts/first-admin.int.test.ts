// This file's database starts with no users at all, as a fresh Kiln does.
import { describe, expect, it } from "vitest";
import { deleteAllUsers } from "@/db/queries/testing";
import { getUserByEmail, listUsers } from "@/db/queries/users";
import { expectAppError, testContext, TEST_PASSWORD, uniqueEmail } from "@/test/harness/fixtures";
import { useTestDb } from "@/test/harness/database";
import { TEST_BASE_URL } from "@/test/harness/env";
import { linkToken } from "@/test/harness/smtp";
import { authenticateWithPassword } from "../auth/authenticate";
import { CONTAINS_EMAIL, TOO_COMMON } from "../auth/password-policy";
import { checkSetupLink, createFirstAdmin, ensureSetupLink } from "./first-admin";

const t = await useTestDb();

describe("first administrator", () => {
  it("issues a setup link while there is no admin; the link creates one admin, once", async () => {
    const earlier = await ensureSetupLink(t.db);
    const link = await ensureSetupLink(t.db);
    expect(link).toMatch(new RegExp(`^${TEST_BASE_URL}/setup/[A-Za-z0-9_-]{43}$`));
    // Every start issues a fresh link and voids the previous one.
    await expectAppError(checkSetupLink(t.db, linkToken(earlier!)), "gone", /replaced by a newer one/);
    await expectAppError(
      createFirstAdmin(t.db, { token: linkToken(earlier!), email: uniqueEmail("early"), password: TEST_PASSWORD }),
      "gone",
    );

    const token = linkToken(link!);
    await checkSetupLink(t.db, token);
    await expectAppError(createFirstAdmin(t.db, { token, email: "not an email", password: TEST_PASSWORD }), "validation");
    await expectAppError(createFirstAdmin(t.db, { token, email: uniqueEmail("weak"), password: "short" }), "validation");
    const rootEmail = uniqueEmail("root");
    for (const [password, message] of [
      ["admin1234567", TOO_COMMON],
      ["Password123!", TOO_COMMON],
      [rootEmail, CONTAINS_EMAIL],
    ] as const) {
      const err = await expectAppError(createFirstAdmin(t.db, { token, email: rootEmail, password }), "validation");
      expect(err.details?.fieldErrors).toEqual({ password: [message] });
    }
    expect(await getUserByEmail(t.db, rootEmail)).toBeUndefined();

    const email = uniqueEmail("root");
    const created = await createFirstAdmin(t.db, { token, email, name: "Root", password: TEST_PASSWORD });
    expect(created.email).toBe(email);
    const admin = (await getUserByEmail(t.db, email))!;
    expect(admin).toMatchObject({ id: created.id, role: "admin", name: "Root", authSource: "local" });
    expect((await authenticateWithPassword(t.db, { method: "password", login: email, password: TEST_PASSWORD }, testContext())).id).toBe(admin.id);

    expect(await ensureSetupLink(t.db)).toBeNull();
    await expectAppError(
      createFirstAdmin(t.db, { token, email: uniqueEmail("second"), password: TEST_PASSWORD }),
      "gone",
      /already has an administrator/,
    );
    await expectAppError(checkSetupLink(t.db, token), "gone", /already has an administrator/);
  });

  it("creates exactly one admin when two people use a setup link at the same moment", async () => {
    await deleteAllUsers(t.db);
    const token = linkToken((await ensureSetupLink(t.db))!);
    const results = await Promise.allSettled(
      ["one", "two"].map((who) => createFirstAdmin(t.db, { token, email: uniqueEmail(who), password: TEST_PASSWORD })),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const refused = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(refused.reason).toMatchObject({ code: "gone" });
    expect((await listUsers(t.db, { filter: "admins", limit: 10, offset: 0 })).total).toBe(1);
  });
});
