// The reconciler: makes the directory match every directory_entries row whose version is
// ahead of what was last written. Idempotent (it reads the entry before writing), so running
// it twice, or after a crash halfway, does no harm. It never writes an entry Kiln did not make
// or an admin did not link: such an entry is refused and left exactly as it is.
import { Attribute, Change, Client, InvalidCredentialsError, NoSuchObjectError } from "ldapts";
import {
  recordDirectoryEntryRemoved,
  listUnsyncedDirectoryEntries,
  recordDirectoryEntryError,
  recordDirectoryEntrySynced,
  tryLockDirectorySync,
  type DirectoryEntryWithUser,
} from "@/db/queries/directory";
import type { Db } from "../db";
import { SYSTEM } from "../access/actor";
import { recordAudit } from "../audit/audit";
import { getLogger } from "../log";
import type { DirectoryConfig } from "./config";
import { lockDirectoryPassword } from "./password";

/** The mark Kiln leaves in `description`, so it knows its own entries from ones that were there before. */
export function kilnMarker(entryId: string): string {
  return `Managed by Kiln (${entryId})`;
}

export type DirectorySyncResult = { written: number; removed: number; refused: number; failed: number; error?: string; busy?: true };

/** A refusal: the entry exists and is not Kiln's. Not retried until an admin links it (or it goes). */
class ForeignEntryError extends Error {}

type CurrentEntry = { attributes: Record<string, string[]> };

function asStrings(v: unknown): string[] {
  const list = Array.isArray(v) ? v : v == null ? [] : [v];
  return list.map((x) => (Buffer.isBuffer(x) ? x.toString("utf8") : String(x)));
}

/** A sentence for the admin page: what failed and what to check. */
export function describeDirectoryError(e: unknown, config: DirectoryConfig): string {
  if (e instanceof InvalidCredentialsError) {
    return `The directory refused Kiln's bind as ${config.bindDn}: check KILN_DIRECTORY_BIND_DN and KILN_DIRECTORY_BIND_PASSWORD.`;
  }
  const message = e instanceof Error ? e.message : String(e);
  const code = (e as { code?: string } | null)?.code;
  if (code === "ECONNREFUSED" || code === "ETIMEDOUT" || code === "EHOSTUNREACH" || /connect|timeout|ECONNRESET/i.test(message)) {
    return `The directory at ${config.url} cannot be reached (${message}); Kiln retries every minute.`;
  }
  return `The directory refused the change: ${message}`;
}

function newClient(config: DirectoryConfig): Client {
  return new Client({ url: config.url, timeout: config.timeoutMs, connectTimeout: config.timeoutMs });
}

async function readEntry(client: Client, dn: string): Promise<CurrentEntry | null> {
  try {
    const { searchEntries } = await client.search(dn, {
      scope: "base",
      filter: "(objectClass=*)",
      attributes: ["objectClass", "description", "uidNumber", "gidNumber", "homeDirectory"],
    });
    const entry = searchEntries[0];
    if (!entry) return null;
    const attributes: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(entry)) if (k !== "dn") attributes[k.toLowerCase()] = asStrings(v);
    return { attributes };
  } catch (e) {
    if (e instanceof NoSuchObjectError) return null;
    throw e;
  }
}

function hasClass(config: DirectoryConfig, name: string): boolean {
  return config.objectClasses.some((c) => c.toLowerCase() === name.toLowerCase());
}

/** The attributes Kiln writes; an empty list means "remove this attribute". */
function desiredAttributes(config: DirectoryConfig, row: DirectoryEntryWithUser, locked: boolean): Record<string, string[]> {
  const user = row.user!;
  const fullName = user.name.trim();
  const words = fullName.split(/\s+/).filter(Boolean);
  const password = user.directoryPasswordHash ? [locked ? lockDirectoryPassword(user.directoryPasswordHash) : user.directoryPasswordHash] : [];
  const attrs: Record<string, string[]> = {
    cn: [fullName || row.uid],
    uid: [row.uid],
    userPassword: password,
  };
  if (hasClass(config, "inetOrgPerson")) {
    attrs.sn = [words.length ? words.at(-1)! : row.uid];
    attrs.givenName = words.length > 1 ? [words.slice(0, -1).join(" ")] : [];
    attrs.mail = [user.email];
  }
  if (hasClass(config, "posixAccount")) {
    attrs.uidNumber = [String(row.uidNumber)];
    attrs.gidNumber = [String(row.gidNumber)];
    attrs.homeDirectory = [config.homeTemplate.replaceAll("{uid}", row.uid)];
    attrs.loginShell = [config.shell];
  }
  return attrs;
}

async function addEntry(client: Client, config: DirectoryConfig, row: DirectoryEntryWithUser, locked: boolean): Promise<void> {
  const attrs: Record<string, string[]> = { objectClass: config.objectClasses, ...desiredAttributes(config, row, locked), description: [kilnMarker(row.id)] };
  for (const [k, v] of Object.entries(attrs)) if (v.length === 0) delete attrs[k];
  await client.add(row.dn, attrs);
}

async function modifyEntry(client: Client, config: DirectoryConfig, row: DirectoryEntryWithUser, current: CurrentEntry, locked: boolean): Promise<void> {
  const attrs = desiredAttributes(config, row, locked);
  if (row.origin === "linked") {
    // A linked entry was someone's before Kiln: its numbers and home stay as the lab set them
    // (files on disk belong to them); Kiln fills them in only where missing.
    for (const key of ["uidNumber", "gidNumber", "homeDirectory"]) if (current.attributes[key.toLowerCase()]?.length) delete attrs[key];
  }
  const have = new Set((current.attributes.objectclass ?? []).map((c) => c.toLowerCase()));
  const missingClasses = config.objectClasses.filter((c) => !have.has(c.toLowerCase()));
  const changes: Change[] = [];
  if (missingClasses.length) changes.push(new Change({ operation: "add", modification: new Attribute({ type: "objectClass", values: missingClasses }) }));
  for (const [type, values] of Object.entries(attrs)) changes.push(new Change({ operation: "replace", modification: new Attribute({ type, values }) }));
  await client.modify(row.dn, changes);
}

function isOurs(row: DirectoryEntryWithUser, current: CurrentEntry): boolean {
  return row.origin === "linked" || (current.attributes.description ?? []).includes(kilnMarker(row.id));
}

function refusal(row: DirectoryEntryWithUser): string {
  return `An entry ${row.dn} already exists in the directory and Kiln did not create it; an administrator can link it to this account on the Directory page.`;
}

type Outcome = "created" | "updated" | "disabled" | "removed" | "dropped";

/** Makes the directory match the row; the database side is recorded by recordOutcome. */
async function reconcileEntry(client: Client, config: DirectoryConfig, row: DirectoryEntryWithUser): Promise<Outcome> {
  // The account is gone (or is no longer a local one): the entry goes too.
  const desired = row.user && row.user.authSource === "local" ? row.desired : "absent";
  const current = await readEntry(client, row.dn);
  if (desired === "absent") {
    const removes = current !== null && isOurs(row, current);
    if (removes) await client.del(row.dn);
    return removes ? "removed" : "dropped";
  }
  const locked = desired === "disabled";
  if (!current) {
    await addEntry(client, config, row, locked);
    return "created";
  }
  if (!isOurs(row, current)) throw new ForeignEntryError(refusal(row));
  await modifyEntry(client, config, row, current, locked);
  return locked ? "disabled" : "updated";
}

const AUDIT_VERB: Record<Outcome, string> = {
  created: "created the directory entry",
  updated: "updated the directory entry",
  disabled: "locked the directory entry (account disabled)",
  removed: "removed the directory entry",
  dropped: "forgot the directory entry (Kiln had not written it)",
};
const AUDIT_ACTION: Record<Outcome, string> = {
  created: "directory.entry.create",
  updated: "directory.entry.update",
  disabled: "directory.entry.disable",
  removed: "directory.entry.remove",
  dropped: "directory.entry.remove",
};

/**
 * The write is done: mark the row synced (a removed one is kept, see recordDirectoryEntryRemoved) and audit, in one transaction. A crash
 * before it leaves the row unsynced, so the next run writes again (idempotently) and audits then.
 */
async function recordOutcome(db: Db, row: DirectoryEntryWithUser, outcome: Outcome): Promise<void> {
  await db.transaction(async (tx) => {
    if (outcome === "removed" || outcome === "dropped") await recordDirectoryEntryRemoved(tx, row.id, row.version);
    else await recordDirectoryEntrySynced(tx, row.id, row.version);
    await recordAudit(tx, SYSTEM, {
      action: AUDIT_ACTION[outcome],
      targetType: "directory_entry",
      targetId: row.id,
      summary: `${AUDIT_VERB[outcome]} ${row.dn}${row.user ? ` for ${row.user.email}` : ""}`,
      data: { dn: row.dn, uid: row.uid, origin: row.origin, version: row.version },
    });
  });
}

/**
 * Writes every unsynced row (up to `limit` per run; the next run takes the rest). A run that
 * finds another one going returns at once with `busy`: that one (or the next minute's) writes.
 */
export async function syncDirectory(db: Db, config: DirectoryConfig, opts: { limit?: number } = {}): Promise<DirectorySyncResult> {
  // The lock lives in a transaction of its own, held for the run; the writes use other connections.
  return db.transaction(async (tx) => {
    if (!(await tryLockDirectorySync(tx))) return { written: 0, removed: 0, refused: 0, failed: 0, busy: true };
    return syncDirectoryLocked(db, config, opts);
  });
}

async function syncDirectoryLocked(db: Db, config: DirectoryConfig, opts: { limit?: number }): Promise<DirectorySyncResult> {
  const result: DirectorySyncResult = { written: 0, removed: 0, refused: 0, failed: 0 };
  const rows = await listUnsyncedDirectoryEntries(db, opts.limit ?? 500);
  if (rows.length === 0) return result;
  const log = getLogger("directory");
  const client = newClient(config);
  try {
    try {
      await client.bind(config.bindDn, config.bindPassword);
    } catch (e) {
      const message = describeDirectoryError(e, config);
      log.warn({ err: e instanceof Error ? e.message : e }, "directory bind failed");
      for (const row of rows) await recordDirectoryEntryError(db, row.id, message);
      return { ...result, failed: rows.length, error: message };
    }
    for (const row of rows) {
      try {
        const outcome = await reconcileEntry(client, config, row);
        await recordOutcome(db, row, outcome);
        if (outcome === "removed" || outcome === "dropped") result.removed++;
        else result.written++;
      } catch (e) {
        if (e instanceof ForeignEntryError) {
          result.refused++;
          // Audited once per refusal, not on every retry of the scheduled run.
          if (row.lastError !== e.message) {
            await recordAudit(db, SYSTEM, { action: "directory.entry.refused", targetType: "directory_entry", targetId: row.id, summary: e.message, data: { dn: row.dn, uid: row.uid } });
          }
          await recordDirectoryEntryError(db, row.id, e.message);
        } else {
          result.failed++;
          const message = describeDirectoryError(e, config);
          log.warn({ err: e instanceof Error ? e.message : e, dn: row.dn }, "directory write failed");
          await recordDirectoryEntryError(db, row.id, message);
        }
      }
    }
    return result;
  } finally {
    await client.unbind().catch(() => {});
  }
}

export type DirectoryStatus = {
  configured: boolean;
  url: string | null;
  peopleDn: string | null;
  bindOk: boolean;
  peopleDnOk: boolean;
  error: string | null;
};

/** Binds and looks at the people OU: what the admin page shows at its top. */
export async function checkDirectory(config: DirectoryConfig | null): Promise<DirectoryStatus> {
  if (!config) return { configured: false, url: null, peopleDn: null, bindOk: false, peopleDnOk: false, error: null };
  const status: DirectoryStatus = { configured: true, url: config.url, peopleDn: config.peopleDn, bindOk: false, peopleDnOk: false, error: null };
  const client = newClient(config);
  try {
    await client.bind(config.bindDn, config.bindPassword);
    status.bindOk = true;
    if (await readEntry(client, config.peopleDn)) status.peopleDnOk = true;
    else status.error = `${config.peopleDn} (KILN_DIRECTORY_PEOPLE_DN) does not exist in the directory.`;
  } catch (e) {
    status.error = describeDirectoryError(e, config);
  } finally {
    await client.unbind().catch(() => {});
  }
  return status;
}
