// What administrators do with directory entries: look, re-sync everything, link an entry Kiln
// refused. Each change is audited in its transaction and written by the reconciler after commit.
import {
  getDirectoryEntryByIdForUpdate,
  getDirectoryEntryWithUser,
  linkDirectoryEntry,
  listActiveLocalUsersWithoutDirectoryEntry,
  listDirectoryEntries,
  markAllDirectoryEntriesDirty,
  type DirectoryEntryWithUser,
} from "@/db/queries/directory";
import type { DirectoryEntryRow } from "@/db/schema";
import type { Db } from "../db";
import { AppError } from "../errors";
import { assertAdmin, type Actor } from "../access/actor";
import { recordAudit } from "../audit/audit";
import type { DirectoryEntryView } from "../validation/directory";
import { getDirectoryConfig, markDirectoryEntry, requestDirectorySync } from "./mark";
import { checkDirectory, type DirectoryStatus } from "./sync";

const ADMIN_ONLY = "Only administrators can manage directory entries.";

/** The refusal message the reconciler writes starts so; a row with it may be linked. */
function isRefused(row: Pick<DirectoryEntryRow, "origin" | "lastError" | "dn">): boolean {
  return row.origin === "created" && Boolean(row.lastError?.startsWith(`An entry ${row.dn} already exists`));
}

export function toDirectoryEntryView(row: DirectoryEntryWithUser): DirectoryEntryView {
  return {
    id: row.id,
    uid: row.uid,
    dn: row.dn,
    uidNumber: row.uidNumber,
    gidNumber: row.gidNumber,
    userId: row.userId,
    email: row.user?.email ?? null,
    origin: row.origin,
    desired: row.desired,
    synced: row.syncedVersion >= row.version,
    syncedAt: row.syncedAt?.toISOString() ?? null,
    lastError: row.lastError,
    lastErrorAt: row.lastErrorAt?.toISOString() ?? null,
    refused: isRefused(row),
  };
}

export async function getDirectoryStatusAsAdmin(actor: Actor): Promise<DirectoryStatus> {
  assertAdmin(actor, ADMIN_ONLY);
  return checkDirectory(getDirectoryConfig());
}

export async function listDirectoryEntriesAsAdmin(db: Db, actor: Actor): Promise<{ entries: DirectoryEntryView[] }> {
  assertAdmin(actor, ADMIN_ONLY);
  return { entries: (await listDirectoryEntries(db)).map(toDirectoryEntryView) };
}

/**
 * Marks every row for writing again (entries changed by hand in the directory are put back), and
 * gives an entry to active local accounts that have none (they existed before the directory was
 * configured; their entry has no password until they next set one).
 */
export async function resyncDirectoryAsAdmin(db: Db, actor: Actor): Promise<{ marked: number; added: number }> {
  assertAdmin(actor, ADMIN_ONLY);
  const config = getDirectoryConfig();
  const result = await db.transaction(async (tx) => {
    let added = 0;
    if (config) for (const user of await listActiveLocalUsersWithoutDirectoryEntry(tx)) if (await markDirectoryEntry(tx, user, { config })) added++;
    const marked = await markAllDirectoryEntriesDirty(tx);
    await recordAudit(tx, actor, {
      action: "directory.resync",
      targetType: "directory",
      summary: `asked to re-sync all ${marked} directory entr${marked === 1 ? "y" : "ies"}${added ? `, ${added} of them new for accounts that had none` : ""}`,
      data: { marked, added },
    });
    return { marked, added };
  });
  await requestDirectorySync();
  return result;
}

/**
 * Ties a refused entry (one that was in the directory before Kiln) to the account: from now on
 * Kiln keeps it in step, and removes it when the account is deleted. The admin has confirmed
 * it is this person's entry.
 */
export async function linkDirectoryEntryAsAdmin(db: Db, actor: Actor, id: string): Promise<DirectoryEntryView> {
  assertAdmin(actor, ADMIN_ONLY);
  await db.transaction(async (tx) => {
    // Locked: the reconciler's write of this row (its refusal, a retry) waits for the link.
    const row = await getDirectoryEntryByIdForUpdate(tx, id);
    if (!row) throw new AppError("not_found", "That directory entry does not exist.");
    if (row.origin === "linked") throw new AppError("conflict", `${row.dn} is already linked.`);
    if (!row.userId || row.desired === "absent") throw new AppError("conflict", `The account of ${row.dn} was deleted; there is nothing to link it to.`);
    // Linking hands Kiln an entry someone else made; an entry Kiln wrote itself is already its own.
    if (!isRefused(row)) throw new AppError("conflict", `Only an entry Kiln refused (one that was in the directory before it) can be linked; ${row.dn} has not been refused.`);
    await linkDirectoryEntry(tx, id);
    await recordAudit(tx, actor, { action: "directory.entry.link", targetType: "directory_entry", targetId: id, summary: `linked the existing directory entry ${row.dn} to the account; Kiln manages it from now on`, data: { dn: row.dn, userId: row.userId } });
  });
  await requestDirectorySync();
  const row = await getDirectoryEntryWithUser(db, id);
  // Gone already only if the account was deleted and the reconciler removed it meanwhile.
  if (!row) throw new AppError("not_found", "That directory entry no longer exists.");
  return toDirectoryEntryView(row);
}
