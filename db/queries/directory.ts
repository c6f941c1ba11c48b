import { and, asc, eq, isNotNull, isNull, like, lt, ne, or, sql } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { directoryEntries, users, type DirectoryEntryDesired, type DirectoryEntryRow, type UserRow } from "../schema";

/** Serialises uid and uidNumber allocation, so two accounts activated at once cannot pick the same. */
export async function lockDirectoryAllocation(db: DbOrTx): Promise<void> {
  await db.execute(sql`select pg_advisory_xact_lock(hashtext('kiln.directory-allocation'))`);
}

/**
 * One reconciler at a time (the scheduled run and one queued after a change may overlap):
 * true when this transaction now holds the lock, false when another run has it.
 */
export async function tryLockDirectorySync(db: DbOrTx): Promise<boolean> {
  const [row] = await db.execute<{ locked: boolean }>(sql`select pg_try_advisory_xact_lock(hashtext('kiln.directory-sync')) as locked`);
  return Boolean(row?.locked);
}

/** The entry, row-locked for the rest of the transaction. */
export async function getDirectoryEntryByIdForUpdate(db: DbOrTx, id: string): Promise<DirectoryEntryRow | undefined> {
  const [row] = await db.select().from(directoryEntries).where(eq(directoryEntries.id, id)).limit(1).for("update");
  return row;
}

/** The account's entry, row-locked for the rest of the transaction. */
export async function getDirectoryEntryOfUserForUpdate(db: DbOrTx, userId: string): Promise<DirectoryEntryRow | undefined> {
  const [row] = await db.select().from(directoryEntries).where(eq(directoryEntries.userId, userId)).limit(1).for("update");
  return row;
}

export async function getDirectoryEntryOfUser(db: DbOrTx, userId: string): Promise<DirectoryEntryRow | undefined> {
  const [row] = await db.select().from(directoryEntries).where(eq(directoryEntries.userId, userId)).limit(1);
  return row;
}

export async function getDirectoryEntryById(db: DbOrTx, id: string): Promise<DirectoryEntryRow | undefined> {
  const [row] = await db.select().from(directoryEntries).where(eq(directoryEntries.id, id)).limit(1);
  return row;
}

/** Kiln's uids equal to `base` or starting with it (the candidates a suffix must avoid). */
export async function listDirectoryUidsLike(db: DbOrTx, base: string): Promise<string[]> {
  const pattern = `${base.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const rows = await db.select({ uid: directoryEntries.uid }).from(directoryEntries).where(or(eq(directoryEntries.uid, base), like(directoryEntries.uid, pattern)));
  return rows.map((r) => r.uid);
}

/** The lowest uidNumber in [first, last] no entry of Kiln's uses; null when the range is full. */
export async function getFreeUidNumber(db: DbOrTx, range: { first: number; last: number }): Promise<number | null> {
  const rows = await db.execute<{ n: number | null }>(sql`
    select min(n)::int as n from generate_series(${range.first}::int, ${range.last}::int) as n
    where not exists (select 1 from ${directoryEntries} where ${directoryEntries.uidNumber} = n)`);
  return rows[0]?.n ?? null;
}

export async function insertDirectoryEntry(db: DbOrTx, values: typeof directoryEntries.$inferInsert): Promise<DirectoryEntryRow> {
  const [row] = await db.insert(directoryEntries).values(values).returning();
  return row!;
}

/** Sets what the directory should hold and bumps the version, so the reconciler writes it. */
export async function setDirectoryEntryDesired(db: DbOrTx, id: string, desired: DirectoryEntryDesired): Promise<DirectoryEntryRow | undefined> {
  const [row] = await db
    .update(directoryEntries)
    .set({ desired, version: sql`${directoryEntries.version} + 1`, updatedAt: new Date() })
    .where(eq(directoryEntries.id, id))
    .returning();
  return row;
}

/** Marks every row for writing again (the admin's re-sync); returns how many. */
export async function markAllDirectoryEntriesDirty(db: DbOrTx): Promise<number> {
  const rows = await db
    .update(directoryEntries)
    .set({ version: sql`greatest(${directoryEntries.version}, ${directoryEntries.syncedVersion}) + 1`, updatedAt: new Date() })
    // Removed entries stay removed: their rows only keep the uid and uidNumber from reuse.
    .where(ne(directoryEntries.desired, "absent"))
    .returning({ id: directoryEntries.id });
  return rows.length;
}

export async function linkDirectoryEntry(db: DbOrTx, id: string): Promise<DirectoryEntryRow | undefined> {
  const [row] = await db
    .update(directoryEntries)
    .set({ origin: "linked", version: sql`${directoryEntries.version} + 1`, updatedAt: new Date() })
    .where(and(eq(directoryEntries.id, id), eq(directoryEntries.origin, "created")))
    .returning();
  return row;
}

export type DirectoryEntryWithUser = DirectoryEntryRow & {
  user: { email: string; name: string; directoryPasswordHash: string | null; authSource: "local" | "ldap" } | null;
};

const USER_COLUMNS = { email: users.email, name: users.name, directoryPasswordHash: users.directoryPasswordHash, authSource: users.authSource };

/** The rows whose last write is older than their last change, oldest change first. */
export async function listUnsyncedDirectoryEntries(db: DbOrTx, limit: number): Promise<DirectoryEntryWithUser[]> {
  const rows = await db
    .select({ entry: directoryEntries, user: USER_COLUMNS })
    .from(directoryEntries)
    .leftJoin(users, eq(users.id, directoryEntries.userId))
    .where(lt(directoryEntries.syncedVersion, directoryEntries.version))
    .orderBy(asc(directoryEntries.updatedAt))
    .limit(limit);
  return rows.map((r) => ({ ...r.entry, user: r.user?.email ? r.user : null }));
}

export async function listDirectoryEntries(db: DbOrTx): Promise<DirectoryEntryWithUser[]> {
  const rows = await db
    .select({ entry: directoryEntries, user: USER_COLUMNS })
    .from(directoryEntries)
    .leftJoin(users, eq(users.id, directoryEntries.userId))
    .orderBy(asc(directoryEntries.uid));
  return rows.map((r) => ({ ...r.entry, user: r.user?.email ? r.user : null }));
}

export async function getDirectoryEntryWithUser(db: DbOrTx, id: string): Promise<DirectoryEntryWithUser | undefined> {
  const [row] = await db
    .select({ entry: directoryEntries, user: USER_COLUMNS })
    .from(directoryEntries)
    .leftJoin(users, eq(users.id, directoryEntries.userId))
    .where(eq(directoryEntries.id, id))
    .limit(1);
  return row ? { ...row.entry, user: row.user?.email ? row.user : null } : undefined;
}

/** After a successful write of `version`: a change made meanwhile (a higher version) stays pending. */
export async function recordDirectoryEntrySynced(db: DbOrTx, id: string, version: number): Promise<void> {
  await db
    .update(directoryEntries)
    .set({ syncedVersion: sql`greatest(${directoryEntries.syncedVersion}, ${version})`, syncedAt: new Date(), lastError: null, lastErrorAt: null })
    .where(eq(directoryEntries.id, id));
}

export async function recordDirectoryEntryError(db: DbOrTx, id: string, message: string): Promise<void> {
  await db.update(directoryEntries).set({ lastError: message, lastErrorAt: new Date() }).where(eq(directoryEntries.id, id));
}

/**
 * Records that the directory no longer has the entry, unless it was wanted back meanwhile. The
 * row stays (desired absent, synced) as the record that its uid and uidNumber were used: a
 * later account must not get them, or it would own the files the old one left on the lab's
 * machines and shares.
 */
export async function recordDirectoryEntryRemoved(db: DbOrTx, id: string, version: number): Promise<boolean> {
  const rows = await db
    .update(directoryEntries)
    .set({ syncedVersion: sql`greatest(${directoryEntries.syncedVersion}, ${version})`, syncedAt: new Date(), lastError: null, lastErrorAt: null })
    .where(and(eq(directoryEntries.id, id), eq(directoryEntries.version, version), eq(directoryEntries.desired, "absent")))
    .returning({ id: directoryEntries.id });
  return rows.length > 0;
}

/** Active local accounts without an entry: those that existed before a directory was configured. */
export async function listActiveLocalUsersWithoutDirectoryEntry(db: DbOrTx): Promise<UserRow[]> {
  const rows = await db
    .select({ user: users })
    .from(users)
    .leftJoin(directoryEntries, eq(directoryEntries.userId, users.id))
    .where(and(eq(users.authSource, "local"), isNull(users.disabledAt), isNotNull(users.emailVerifiedAt), isNotNull(users.approvedAt), isNull(directoryEntries.id)))
    .orderBy(asc(users.createdAt));
  return rows.map((r) => r.user);
}
