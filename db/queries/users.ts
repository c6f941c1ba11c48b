import { and, asc, count, desc, eq, ilike, inArray, isNotNull, isNull, or, sql, type SQL } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { DELETED_USER_LABEL } from "../schema/users";
import { apiTokens, calendarFeeds, leases, oneTimeTokens, projectMembers, reservations, sshKeys, userSessions, users, vpnDevices, type UserRow } from "../schema";

export type UserInsert = typeof users.$inferInsert;

/**
 * The account's email as history shows it: "Deleted user" once the account is a tombstone (its
 * email is a placeholder then). T is string | null beside a left join (null stays null when it
 * found no user), string beside an inner one.
 */
export function historyEmailOf<T extends string | null>(): SQL<T> {
  return sql<T>`case when ${users.deletedAt} is null then ${users.email} else ${DELETED_USER_LABEL} end`;
}

export async function getUserById(db: DbOrTx, id: string): Promise<UserRow | undefined> {
  const [row] = await db.select().from(users).where(eq(users.id, id)).limit(1);
  return row;
}

export async function getUserByEmail(db: DbOrTx, email: string): Promise<UserRow | undefined> {
  const [row] = await db.select().from(users).where(eq(users.email, email.toLowerCase())).limit(1);
  return row;
}

export async function getUserByLdapUsername(db: DbOrTx, username: string): Promise<UserRow | undefined> {
  const [row] = await db.select().from(users).where(eq(users.ldapUsername, username)).limit(1);
  return row;
}

export async function createUser(db: DbOrTx, values: UserInsert): Promise<UserRow> {
  const [row] = await db
    .insert(users)
    .values({ ...values, email: values.email.toLowerCase() })
    .returning();
  return row!;
}

/** Inserts unless the email is taken; returns undefined when it was (no exception, no aborted transaction). */
export async function createUserIfAbsent(db: DbOrTx, values: UserInsert): Promise<UserRow | undefined> {
  const [row] = await db
    .insert(users)
    .values({ ...values, email: values.email.toLowerCase() })
    .onConflictDoNothing({ target: users.email })
    .returning();
  return row;
}

export async function updateUser(
  db: DbOrTx,
  id: string,
  values: Partial<Omit<UserInsert, "id" | "createdAt">>,
): Promise<UserRow | undefined> {
  const [row] = await db
    .update(users)
    .set({ ...values, updatedAt: new Date() })
    .where(eq(users.id, id))
    .returning();
  return row;
}

export async function countActiveAdmins(db: DbOrTx): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(users)
    .where(and(eq(users.role, "admin"), isNull(users.disabledAt)));
  return row?.n ?? 0;
}

export async function hasAnyAdmin(db: DbOrTx): Promise<boolean> {
  const [row] = await db.select({ id: users.id }).from(users).where(eq(users.role, "admin")).limit(1);
  return Boolean(row);
}

export type UserListFilter = "all" | "admins" | "disabled" | "pending" | "deleted";

export async function listUsers(
  db: DbOrTx,
  params: { search?: string; filter?: UserListFilter; limit: number; offset: number },
): Promise<{ rows: UserRow[]; total: number }> {
  const conds: SQL[] = [];
  if (params.search) {
    const q = `%${params.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    conds.push(or(ilike(users.email, q), ilike(users.name, q), ilike(users.ldapUsername, q))!);
  }
  conds.push(params.filter === "deleted" ? isNotNull(users.deletedAt) : isNull(users.deletedAt));
  if (params.filter === "admins") conds.push(eq(users.role, "admin"));
  if (params.filter === "disabled") conds.push(isNotNull(users.disabledAt));
  if (params.filter === "pending") conds.push(or(isNull(users.emailVerifiedAt), isNull(users.approvedAt))!);
  const where = conds.length ? and(...conds) : undefined;
  const rows = await db
    .select()
    .from(users)
    .where(where)
    .orderBy(desc(users.createdAt), asc(users.email))
    .limit(params.limit)
    .offset(params.offset);
  const [totalRow] = await db.select({ n: count() }).from(users).where(where);
  return { rows, total: totalRow?.n ?? 0 };
}

export async function listSshKeys(db: DbOrTx, userId: string) {
  return db.select().from(sshKeys).where(eq(sshKeys.userId, userId)).orderBy(asc(sshKeys.createdAt));
}

export async function insertSshKey(db: DbOrTx, values: typeof sshKeys.$inferInsert) {
  const [row] = await db.insert(sshKeys).values(values).onConflictDoNothing().returning();
  return row;
}

export async function deleteSshKey(db: DbOrTx, params: { userId: string; id: string }): Promise<boolean> {
  const rows = await db
    .delete(sshKeys)
    .where(and(eq(sshKeys.id, params.id), eq(sshKeys.userId, params.userId)))
    .returning({ id: sshKeys.id });
  return rows.length > 0;
}

/** Serialises first-admin creation and last-admin checks across concurrent requests. */
export async function lockAdminSet(db: DbOrTx): Promise<void> {
  await db.execute(sql`select pg_advisory_xact_lock(hashtext('kiln.admin-set'))`);
}

/** Many accounts in one statement (seeding); emails lower-cased as createUser does. */
export async function createUsers(db: DbOrTx, values: UserInsert[]): Promise<UserRow[]> {
  if (values.length === 0) return [];
  return db
    .insert(users)
    .values(values.map((v) => ({ ...v, email: v.email.toLowerCase() })))
    .returning();
}

/** What keeps an account from being deleted: leases it holds, reservations not yet over. */
export async function countOpenBookingsOfUser(db: DbOrTx, userId: string): Promise<{ leases: number; reservations: number }> {
  const [l] = await db.select({ n: sql<number>`count(*)::int` }).from(leases).where(and(eq(leases.userId, userId), eq(leases.state, "active")));
  const [r] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(reservations)
    .where(and(eq(reservations.userId, userId), inArray(reservations.state, ["scheduled", "preparing", "active"])));
  return { leases: l?.n ?? 0, reservations: r?.n ?? 0 };
}

/** Whether leases or reservations (whatever their state) name the person: their history keeps the account as a tombstone. */
export async function hasBookingHistory(db: DbOrTx, userId: string): Promise<boolean> {
  const [lease] = await db.select({ id: leases.id }).from(leases).where(eq(leases.userId, userId)).limit(1);
  if (lease) return true;
  const [reservation] = await db.select({ id: reservations.id }).from(reservations).where(eq(reservations.userId, userId)).limit(1);
  return Boolean(reservation);
}

/**
 * Turns the account into a tombstone for the history that names it: personal data replaced by
 * a placeholder (the email one frees the address for a new account), credentials gone, disabled
 * and marked deleted. Removes what a real delete would cascade away — sessions, API and one-time
 * tokens, SSH keys, project memberships, calendar feeds — and revokes VPN devices (the rows stay
 * as history, their addresses are free). Call inside the deletion's transaction.
 */
export async function tombstoneUser(db: DbOrTx, params: { id: string; placeholderEmail: string; name: string; at: Date }): Promise<UserRow | undefined> {
  const [row] = await db
    .update(users)
    .set({
      email: params.placeholderEmail,
      name: params.name,
      passwordHash: null,
      directoryPasswordHash: null,
      ldapUsername: null,
      role: "user",
      disabledAt: params.at,
      deletedAt: params.at,
      updatedAt: params.at,
    })
    .where(eq(users.id, params.id))
    .returning();
  if (!row) return undefined;
  await db.delete(userSessions).where(eq(userSessions.userId, params.id));
  await db.delete(apiTokens).where(eq(apiTokens.userId, params.id));
  await db.delete(oneTimeTokens).where(eq(oneTimeTokens.userId, params.id));
  await db.delete(sshKeys).where(eq(sshKeys.userId, params.id));
  await db.delete(projectMembers).where(eq(projectMembers.userId, params.id));
  await db.delete(calendarFeeds).where(eq(calendarFeeds.userId, params.id));
  await db
    .update(vpnDevices)
    .set({ revokedAt: params.at })
    .where(and(eq(vpnDevices.userId, params.id), isNull(vpnDevices.revokedAt)));
  return row;
}

export async function deleteUserRow(db: DbOrTx, id: string): Promise<boolean> {
  const rows = await db.delete(users).where(eq(users.id, id)).returning({ id: users.id });
  return rows.length > 0;
}
