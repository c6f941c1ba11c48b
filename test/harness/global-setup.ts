// Integration globalSetup: one PostgreSQL server for the whole run. A local DATABASE_URL is
// used as is (only to create and drop kiln_test_* databases); otherwise an embedded
// PostgreSQL starts in a temp directory and is removed at the end.
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import type { TestProject } from "vitest/node";
import { getProcessEnv } from "@/lib/env";
import { startEmbeddedPostgres } from "@/lib/runtime/embedded-postgres";
import { assertLocalDatabaseUrl } from "./database";

async function assertReachable(url: string): Promise<void> {
  const sql = postgres(url, { max: 1, connect_timeout: 5, onnotice: () => {} });
  try {
    await sql`select 1`;
  } catch (e) {
    const u = new URL(url);
    throw new Error(`Cannot reach the test PostgreSQL at ${u.hostname}:${u.port || 5432} (DATABASE_URL): ${(e as Error).message}`);
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const fromEnv = getProcessEnv().DATABASE_URL;
  if (fromEnv) {
    assertLocalDatabaseUrl(fromEnv);
    await assertReachable(fromEnv);
    project.provide("kilnPgAdminUrl", fromEnv);
    return async () => {};
  }

  // Under /tmp: as root, PostgreSQL runs as the `postgres` user, which must be able to enter every parent directory.
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-test-pg-"));
  let pg;
  try {
    pg = await startEmbeddedPostgres(dir);
  } catch (e) {
    await fs.rm(dir, { recursive: true, force: true });
    throw e;
  }
  project.provide("kilnPgAdminUrl", pg.url);
  return async () => {
    await pg.stop();
    await fs.rm(dir, { recursive: true, force: true });
  };
}
