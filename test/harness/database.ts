// A private, migrated database per integration test file: created from the server the
// globalSetup provides, dropped when the file is done, so files never see each other's rows.
import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { afterAll, beforeEach, inject } from "vitest";
import { createDb, type Db, type DbHandle } from "@/db/client";
import { runMigrations } from "@/lib/runtime/migrations";
import { setTestEnv, setTestEnvDefaults } from "./env";

declare module "vitest" {
  export interface ProvidedContext {
    /** A superuser URL on a local PostgreSQL, used only to create and drop test databases. */
    kilnPgAdminUrl: string;
  }
}

const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

/**
 * The tests create and drop databases, so they refuse any server that is not on this machine:
 * a DATABASE_URL left pointing at a shared or production server must not be touched.
 */
export function assertLocalDatabaseUrl(url: string, variable = "DATABASE_URL"): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`${variable} is not a valid URL; expected postgres://user:password@127.0.0.1:5432/db.`);
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new Error(`${variable} must be a postgres:// URL (got ${parsed.protocol}//…).`);
  }
  if (!LOCAL_HOSTS.has(parsed.hostname)) {
    throw new Error(
      `Refusing to run integration tests against ${variable} on host "${parsed.hostname || "(none)"}": the tests create and ` +
        `drop databases, so only a server on 127.0.0.1, localhost or ::1 is allowed. Unset ${variable} to use an embedded PostgreSQL.`,
    );
  }
  return parsed;
}

export function databaseUrlFor(serverUrl: string, database: string): string {
  const u = new URL(serverUrl);
  u.pathname = `/${database}`;
  return u.toString();
}

async function onServer<T>(serverUrl: string, fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(serverUrl, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

export type TestDatabase = { name: string; url: string; drop: () => Promise<void> };

/** CREATE DATABASE kiln_test_<random>, migrated with the app's own migrations. */
export async function createTestDatabase(serverUrl: string): Promise<TestDatabase> {
  assertLocalDatabaseUrl(serverUrl);
  const name = `kiln_test_${randomBytes(6).toString("hex")}`;
  await onServer(serverUrl, (sql) => sql.unsafe(`create database ${name}`));
  const url = databaseUrlFor(serverUrl, name);
  const drop = () => onServer(serverUrl, (sql) => sql.unsafe(`drop database if exists ${name} with (force)`)).then(() => {});
  try {
    await runMigrations(url);
  } catch (e) {
    await drop().catch(() => {});
    throw e;
  }
  return { name, url, drop };
}

export type TestDb = { db: Db; url: string; name: string };

// db/client.ts keeps the app's pool here; the harness installs its own so getAppDb() uses the test database.
const globalForDb = globalThis as unknown as { kilnDb?: DbHandle };

/**
 * Call once at the top of an integration test file: `const t = await useTestDb();`.
 * Creates and migrates the file's database, points DATABASE_URL (and getAppDb()) at it,
 * resets Kiln's settings to the test defaults before every test, and drops it all afterwards.
 */
export async function useTestDb(): Promise<TestDb> {
  const serverUrl = inject("kilnPgAdminUrl");
  if (!serverUrl) throw new Error("No test PostgreSQL: run integration tests with `npx vitest run --project integration`.");
  const created = await createTestDatabase(serverUrl);
  const handle = createDb(created.url, { max: 5 });
  globalForDb.kilnDb = handle;
  setTestEnvDefaults({ DATABASE_URL: created.url });

  beforeEach(() => setTestEnv());
  afterAll(async () => {
    if (globalForDb.kilnDb === handle) delete globalForDb.kilnDb;
    await handle.close();
    await created.drop();
  });
  return { db: handle.db, url: created.url, name: created.name };
}
