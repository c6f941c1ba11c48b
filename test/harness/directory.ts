// Directory-entry rows for tests that need one without a directory server behind them.
import { insertDirectoryEntry } from "@/db/queries/directory";
import type { DirectoryEntryRow } from "@/db/schema";
import type { Db } from "@/lib/db";

/** A row as the reconciler leaves it after finding a foreign entry at its dn: the only kind an admin may link. */
export async function insertRefusedDirectoryEntry(db: Db, p: { userId: string; uid: string; number: number }): Promise<DirectoryEntryRow> {
  const dn = `uid=${p.uid},ou=people,dc=kiln,dc=test`;
  const lastError = `An entry ${dn} already exists in the directory and Kiln did not create it; an administrator can link it to this account on the Directory page.`;
  return insertDirectoryEntry(db, { userId: p.userId, uid: p.uid, dn, uidNumber: p.number, gidNumber: p.number, lastError });
}
