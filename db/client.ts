import { drizzle, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import * as schema from "./schema";

export type Db = PostgresJsDatabase<typeof schema>;
/** A handle usable as `db` or as the `tx` of `db.transaction(tx => …)`. */
export type DbOrTx = Db | Parameters<Parameters<Db["transaction"]>[0]>[0];

export type DbHandle = { db: Db; close: () => Promise<void> };

export function createDb(url: string, options: { max?: number } = {}): DbHandle {
  const sql = postgres(url, {
    max: options.max ?? 10,
    onnotice: () => {},
    // Surface a down database quickly instead of hanging a request.
    connect_timeout: 10,
  });
  return { db: drizzle(sql, { schema }), close: () => sql.end({ timeout: 5 }) };
}

// One pool per process; kept on globalThis so Next's dev reloads do not leak pools.
const globalForDb = globalThis as unknown as { kilnDb?: DbHandle };

export function getDb(url: string): Db {
  globalForDb.kilnDb ??= createDb(url);
  return globalForDb.kilnDb.db;
}
