// Small helpers the integration tests share: unique identities so tests in one file never
// collide (rows or rate-limit buckets), an assertion for Kiln's AppError, and the few
// database fixtures that route tests (app/, which never imports db/) need.
import { randomBytes, randomInt } from "node:crypto";
import { expect } from "vitest";
import { updateApiTokenExpiry } from "@/db/queries/testing";
import { getUserByEmail } from "@/db/queries/users";
import type { UserRow } from "@/db/schema";
import { createUserAsAdmin } from "@/lib/accounts/create-user";
import type { Db } from "@/lib/db";
import { AppError, type ErrorCode } from "@/lib/errors";
import type { RequestContext } from "@/lib/http/context";

export const TEST_PASSWORD = "correct horse battery staple";

export function uniqueEmail(prefix = "user", domain = "lab.example"): string {
  return `${prefix}-${randomBytes(4).toString("hex")}@${domain}`;
}

/** A request context from an address of its own, so per-IP limits of other tests do not apply. */
export function testContext(ip = `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`): RequestContext {
  return { ip, userAgent: "vitest" };
}

/** Awaits a promise that must reject with AppError(code); returns the error for more checks. */
export async function expectAppError(
  promise: Promise<unknown>,
  code: ErrorCode,
  message?: string | RegExp,
): Promise<AppError> {
  let error: unknown;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  if (error === undefined) throw new Error(`Expected AppError("${code}"), but the call succeeded.`);
  if (!(error instanceof AppError)) throw error;
  expect({ code: error.code, message: error.message }).toEqual({
    code,
    message: message === undefined ? error.message : typeof message === "string" ? message : expect.stringMatching(message),
  });
  return error;
}

/** A verified, approved local account, as an admin or the CLI would create it. */
export async function createActiveUser(
  db: Db,
  params: { email?: string; password?: string; name?: string; admin?: boolean } = {},
): Promise<{ user: UserRow; password: string }> {
  const password = params.password ?? TEST_PASSWORD;
  const created = await createUserAsAdmin(db, {
    email: params.email ?? uniqueEmail(params.admin ? "admin" : "user"),
    password,
    name: params.name ?? "",
    admin: params.admin ?? false,
  });
  return { user: (await getUserByEmail(db, created.email))!, password };
}

export type { UserRow };

/** An API token whose lifetime has run out (a minute ago). */
export async function expireApiToken(db: Db, id: string): Promise<void> {
  await updateApiTokenExpiry(db, { id, expiresAt: new Date(Date.now() - 60_000) });
}

/** Row counts of the given tables, to show that a refused request wrote nothing. */
export { countRows } from "@/db/queries/testing";
