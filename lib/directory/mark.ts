// The account side of directory entries: every account change that matters to the directory
// calls markDirectoryEntry in its own transaction, which records the intent (the row and its
// version); the reconciler (./sync.ts) writes it after commit. A crash in between loses
// nothing: the scheduled reconcile finds the row still unsynced.
import {
  getDirectoryEntryOfUserForUpdate,
  getFreeUidNumber,
  insertDirectoryEntry,
  listDirectoryUidsLike,
  lockDirectoryAllocation,
  setDirectoryEntryDesired,
} from "@/db/queries/directory";
import type { DirectoryEntryDesired, UserRow } from "@/db/schema";
import { SYNC_DIRECTORY_JOB } from "./jobs";
import type { DbOrTx } from "../db";
import { getEnv } from "../env";
import { AppError } from "../errors";
import { enqueueJob } from "../jobs/enqueue";
import { getLogger } from "../log";
import { getUserStatus } from "../users/user-view";
import { directoryConfigFromEnv, type DirectoryConfig } from "./config";
import { hashDirectoryPassword } from "./password";
import { baseUidFromEmail, escapeDnValue, pickUniqueUid } from "./uid";

export function getDirectoryConfig(): DirectoryConfig | null {
  return directoryConfigFromEnv(getEnv());
}

/** The userPassword value to keep beside a new local password; null when no directory is configured. */
export function hashPasswordForDirectory(password: string, config = getDirectoryConfig()): string | null {
  return config ? hashDirectoryPassword(password, config.passwordScheme) : null;
}

/**
 * What the directory should hold for this account, or null for "no entry of its own":
 * LDAP accounts (their entry is the lab's, never Kiln's) and accounts still pending.
 */
export function desiredDirectoryState(
  user: Pick<UserRow, "authSource" | "disabledAt" | "emailVerifiedAt" | "approvedAt"> & { deletedAt?: Date | null },
  deleted = false,
): DirectoryEntryDesired | null {
  if (user.authSource !== "local") return null;
  const status = getUserStatus(user);
  // A deleted account kept as a tombstone for its history has no entry either.
  if (deleted || status === "deleted") return "absent";
  if (status === "active") return "present";
  if (status === "disabled") return "disabled";
  return null;
}

/**
 * Records, in the caller's transaction, that the account's entry must be (re)written: creates
 * the row when the account has just become active (allocating uid, uidNumber, gidNumber), sets
 * the desired state and bumps the version. Call it after the account row has its new state
 * (and before deleting it). Returns true when the reconciler has something to do: then call
 * requestDirectorySync() after commit.
 */
export async function markDirectoryEntry(
  tx: DbOrTx,
  user: UserRow,
  opts: { deleted?: boolean; config?: DirectoryConfig | null } = {},
): Promise<boolean> {
  const config = opts.config === undefined ? getDirectoryConfig() : opts.config;
  if (!config) return false;
  const desired = desiredDirectoryState(user, opts.deleted);
  if (!desired) return false;
  const existing = await getDirectoryEntryOfUserForUpdate(tx, user.id);
  if (existing) {
    await setDirectoryEntryDesired(tx, existing.id, desired);
    return true;
  }
  // Only an account becoming active gets an entry; a disabled or deleted one never had one to change.
  if (desired !== "present") return false;
  await lockDirectoryAllocation(tx);
  const uid = pickUniqueUid(baseUidFromEmail(user.email), await listDirectoryUidsLike(tx, baseUidFromEmail(user.email)));
  const uidNumber = await getFreeUidNumber(tx, config.uidRange);
  const gidNumber = uidNumber === null ? null : config.gidRange.first + (uidNumber - config.uidRange.first);
  if (uidNumber === null || gidNumber === null || gidNumber > config.gidRange.last) {
    throw new AppError(
      "conflict",
      `The directory's uid range (${config.uidRange.first}-${config.uidRange.last}) or gid range is full; an administrator must widen KILN_DIRECTORY_UID_RANGE / KILN_DIRECTORY_GID_RANGE.`,
    );
  }
  await insertDirectoryEntry(tx, {
    userId: user.id,
    uid,
    dn: `uid=${escapeDnValue(uid)},${config.peopleDn}`,
    uidNumber,
    gidNumber,
    origin: "created",
    desired: "present",
  });
  return true;
}

/**
 * Asks the worker to reconcile now. Best effort: the job also runs every minute and at worker
 * start, so a failed enqueue only delays the write.
 */
export async function requestDirectorySync(): Promise<void> {
  if (!getDirectoryConfig()) return;
  await enqueueJob(SYNC_DIRECTORY_JOB, {}, { singletonKey: "sync-directory" }).catch((err) =>
    getLogger("directory").warn({ err: err instanceof Error ? err.message : err }, "could not queue a directory sync; the scheduled one will write it"),
  );
}
