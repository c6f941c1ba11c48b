import { describe, expect, it } from "vitest";
import { getApiTokenByHash } from "@/db/queries/auth";
import { listRowsAsJson, updateApiTokenExpiry } from "@/db/queries/testing";
import { updateUser } from "@/db/queries/users";
import { createActiveUser, expectAppError } from "@/test/harness/fixtures";
import { useTestDb } from "@/test/harness/database";
import { updateUserAsAdmin } from "../accounts/admin";
import { authenticateApiToken, createApiToken, createApiTokenForEmail, getApiTokens, revokeOwnApiToken } from "./api-tokens";
import { hashSecret } from "./secrets";

const t = await useTestDb();
const INVALID = "The access token is not valid (unknown, revoked or expired).";

describe("API tokens", () => {
  it("authenticates its owner and records the use", async () => {
    const { user } = await createActiveUser(t.db);
    const created = await createApiToken(t.db, user.id, { name: "  ci runner  " });
    expect(created.token).toMatch(/^kiln_pat_[A-Za-z0-9_-]{43}$/);
    expect(created).toMatchObject({ name: "ci runner", expiresAt: null });

    expect((await authenticateApiToken(t.db, created.token)).id).toBe(user.id);
    const [listed] = await getApiTokens(t.db, user.id);
    expect(listed).toMatchObject({ id: created.id, name: "ci runner", prefix: created.token.slice(0, 15), revokedAt: null });
    expect(listed!.lastUsedAt).toBeInstanceOf(Date);
    expect(listed).not.toHaveProperty("tokenHash");
  });

  it("stores only a hash: the plaintext appears nowhere in api_tokens", async () => {
    const { user } = await createActiveUser(t.db);
    const { token, id } = await createApiToken(t.db, user.id, { name: "secret check" });
    const secretPart = token.slice("kiln_pat_".length);
    const rows = await listRowsAsJson(t.db, "api_tokens");
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row).not.toContain(secretPart.slice(0, 20));
    expect((await getApiTokenByHash(t.db, hashSecret(token)))?.id).toBe(id);
  });

  it("refuses a revoked token; only its owner can revoke it", async () => {
    const { user } = await createActiveUser(t.db);
    const { user: other } = await createActiveUser(t.db);
    const { token, id } = await createApiToken(t.db, user.id, { name: "to revoke" });
    await expectAppError(revokeOwnApiToken(t.db, other.id, id), "not_found");
    expect((await authenticateApiToken(t.db, token)).id).toBe(user.id);

    await revokeOwnApiToken(t.db, user.id, id);
    await expectAppError(authenticateApiToken(t.db, token), "unauthorized", INVALID);
    await expectAppError(revokeOwnApiToken(t.db, user.id, id), "not_found", /already revoked/);
  });

  it("refuses an expired token", async () => {
    const { user } = await createActiveUser(t.db);
    const { token, id, expiresAt } = await createApiToken(t.db, user.id, { name: "short", expiresInDays: "1" });
    expect(expiresAt!.getTime()).toBeGreaterThan(Date.now() + 23 * 3600_000);
    expect((await authenticateApiToken(t.db, token)).id).toBe(user.id);
    await updateApiTokenExpiry(t.db, { id, expiresAt: new Date(Date.now() - 1000) });
    await expectAppError(authenticateApiToken(t.db, token), "unauthorized", INVALID);
  });

  it("stops working as soon as its user is disabled, and again when re-enabled", async () => {
    const { user: admin } = await createActiveUser(t.db, { admin: true });
    const { user } = await createActiveUser(t.db);
    const { token } = await createApiToken(t.db, user.id, { name: "soon dead" });
    await updateUserAsAdmin(t.db, admin, user.id, { disabled: true });
    await expectAppError(authenticateApiToken(t.db, token), "unauthorized", /disabled or not active/);
    await updateUserAsAdmin(t.db, admin, user.id, { disabled: false });
    expect((await authenticateApiToken(t.db, token)).id).toBe(user.id);
    // Unverified (status not active) is refused too.
    await updateUser(t.db, user.id, { emailVerifiedAt: null });
    await expectAppError(authenticateApiToken(t.db, token), "unauthorized");
  });

  it("refuses unknown, mangled and foreign-prefix tokens", async () => {
    const { user } = await createActiveUser(t.db);
    const { token } = await createApiToken(t.db, user.id, { name: "real" });
    await expectAppError(authenticateApiToken(t.db, token.slice(0, -1)), "unauthorized", INVALID);
    await expectAppError(authenticateApiToken(t.db, token.replace("kiln_pat_", "ghp_")), "unauthorized", INVALID);
    await expectAppError(authenticateApiToken(t.db, ""), "unauthorized", INVALID);
  });

  it("validates the name and lifetime, and creates tokens by email for the CLI", async () => {
    const { user } = await createActiveUser(t.db);
    const err = await expectAppError(createApiToken(t.db, user.id, { name: " " }), "validation", "Give the token a name.");
    expect(err.details?.fieldErrors?.name).toBeDefined();
    await expectAppError(createApiToken(t.db, user.id, { name: "x", expiresInDays: 0 }), "validation");
    await expectAppError(createApiTokenForEmail(t.db, "nobody@lab.example", { name: "x" }), "not_found", /No account has the email/);
    const viaEmail = await createApiTokenForEmail(t.db, user.email.toUpperCase(), { name: "cli" });
    expect((await authenticateApiToken(t.db, viaEmail.token)).id).toBe(user.id);
  });
});
