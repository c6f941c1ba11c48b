// For tests only; nothing in the app calls these. They put rows into states lib/ reaches only
// with time (a token past its expiry) or never (no account at all), and they look at the
// database as a whole (row counts, server sessions) to prove that nothing was written.
import { eq, sql } from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";
import type { DbOrTx } from "../client";
import * as schema from "../schema";
import { apiTokens, deployments, oneTimeTokens, users, userSessions, type DeploymentRow } from "../schema";

type Schema = typeof schema;
/** The SQL name of every table in db/schema ("hosts", "lease_hosts", …). */
export type TableName = { [K in keyof Schema]: Schema[K] extends PgTable ? Schema[K]["_"]["name"] : never }[keyof Schema];

/** Row counts of the given tables, read in one statement: `{ hosts: 12, pools: 1 }`. */
export async function countRows<T extends TableName>(db: DbOrTx, tables: readonly T[]): Promise<Record<T, number>> {
  if (tables.length === 0) return {} as Record<T, number>;
  const columns = tables.map((table) => sql`(select count(*)::int from ${sql.identifier(table)}) as ${sql.identifier(table)}`);
  const [row] = await db.execute<Record<T, number>>(sql`select ${sql.join(columns, sql`, `)}`);
  return row!;
}

/** Every row of a table as JSON text, every column included (to search stored values for a secret). */
export async function listRowsAsJson(db: DbOrTx, table: TableName): Promise<string[]> {
  const rows = await db.execute<{ row: string }>(sql`select row_to_json(t)::text as row from ${sql.identifier(table)} t`);
  return rows.map((r) => r.row);
}

/** Server sessions of this database waiting for a lock (a test lines a race up with it). */
export async function countLockWaiters(db: DbOrTx): Promise<number> {
  const [row] = await db.execute<{ n: number }>(sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`);
  return row!.n;
}

/** Server sessions of this database opened under an application_name (the worker's pool). */
export async function countConnections(db: DbOrTx, applicationName: string): Promise<number> {
  const [row] = await db.execute<{ n: number }>(sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name = ${applicationName}`);
  return row!.n;
}

// Simulated time: these move an expiry instead of waiting for it.

export async function updateSessionExpiry(db: DbOrTx, params: { id: string; expiresAt: Date }): Promise<void> {
  await db.update(userSessions).set({ expiresAt: params.expiresAt }).where(eq(userSessions.id, params.id));
}

export async function updateApiTokenExpiry(db: DbOrTx, params: { id: string; expiresAt: Date }): Promise<void> {
  await db.update(apiTokens).set({ expiresAt: params.expiresAt }).where(eq(apiTokens.id, params.id));
}

/** Every one-time token of a user (used or not, of any purpose). */
export async function updateOneTimeTokenExpiryOfUser(db: DbOrTx, params: { userId: string; expiresAt: Date }): Promise<void> {
  await db.update(oneTimeTokens).set({ expiresAt: params.expiresAt }).where(eq(oneTimeTokens.userId, params.userId));
}

/** A fresh install: no account at all (cascades to their sessions and tokens). */
export async function deleteAllUsers(db: DbOrTx): Promise<void> {
  await db.delete(users);
}

/** pg-boss jobs of one queue whose payload has `key` = `value` (a test checks what was queued). */
export async function listQueuedJobs(db: DbOrTx, p: { name: string; key: string; value: string }): Promise<{ data: Record<string, unknown>; state: string }[]> {
  return db.execute<{ data: Record<string, unknown>; state: string }>(sql`select data, state from pgboss.job where name = ${p.name} and data->>${p.key} = ${p.value}`);
}

/** A run's state set directly, as a machine's report or a deadline would leave it. */
export async function updateDeploymentStateForTest(db: DbOrTx, params: { id: string; state: DeploymentRow["state"] }): Promise<void> {
  await db.update(deployments).set({ state: params.state }).where(eq(deployments.id, params.id));
}

/**
 * A host's hardware as commissioning would have stored it (cores, memory, disks, facts), for
 * specs about selecting by hardware that do not boot a machine to get them.
 */
export async function setHostFactsForTest(
  db: DbOrTx,
  params: { hostId: string; cpuCores: number | null; memoryMb: number | null; disks: (typeof schema.hosts.$inferInsert)["disks"]; facts: Record<string, unknown> },
): Promise<void> {
  await db.update(schema.hosts).set({ cpuCores: params.cpuCores, memoryMb: params.memoryMb, disks: params.disks, facts: params.facts }).where(eq(schema.hosts.id, params.hostId));
}
