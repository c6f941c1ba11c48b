// Chooses the database for this run: DATABASE_URL when set, else the embedded PostgreSQL.
import path from "node:path";
import postgres from "postgres";
import type { Env } from "../env";
import { startEmbeddedPostgres } from "./embedded-postgres";

export type RuntimeDatabase = { url: string; isEmbedded: boolean; stop: () => Promise<void> };

function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return "(unparseable URL)";
  }
}

/** Fails with a sentence a person can act on when the database is down or refuses us. */
export async function assertDatabaseReachable(url: string): Promise<void> {
  const sql = postgres(url, { max: 1, connect_timeout: 5, onnotice: () => {} });
  try {
    await sql`select 1`;
  } catch (e) {
    const reason = (e as Error).message || String(e);
    throw new Error(`Cannot reach the database at ${describeUrl(url)} (DATABASE_URL): ${reason}. Is PostgreSQL running, and are the credentials right?`);
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}

export async function openRuntimeDatabase(env: Env, options: { attachIfRunning?: boolean } = {}): Promise<RuntimeDatabase> {
  if (env.DATABASE_URL) {
    await assertDatabaseReachable(env.DATABASE_URL);
    return { url: env.DATABASE_URL, isEmbedded: false, stop: async () => {} };
  }
  const pg = await startEmbeddedPostgres(path.join(env.dataDir, "postgres"), options);
  return { url: pg.url, isEmbedded: true, stop: pg.stop };
}
