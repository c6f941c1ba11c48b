// What a person sees of their own directory entry (the profile page): their lab login.
import { getDirectoryEntryOfUser } from "@/db/queries/directory";
import type { UserRow } from "@/db/schema";
import type { Db } from "../db";
import { getUserStatus } from "../users/user-view";
import { getDirectoryConfig } from "./mark";

export type MyDirectoryAccount = { uid: string; dn: string; synced: boolean; hasPassword: boolean };

/** Only for an active local account with an entry Kiln keeps (not one being removed); else null. */
export async function getMyDirectoryAccount(db: Db, user: UserRow): Promise<MyDirectoryAccount | null> {
  if (!getDirectoryConfig() || user.authSource !== "local" || getUserStatus(user) !== "active") return null;
  const row = await getDirectoryEntryOfUser(db, user.id);
  if (!row || row.desired !== "present") return null;
  return { uid: row.uid, dn: row.dn, synced: row.syncedVersion >= row.version && !row.lastError, hasPassword: Boolean(user.directoryPasswordHash) };
}
