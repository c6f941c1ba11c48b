// Sites: where hosts are, and which boot server answers them (docs/topology.md). Each boot
// server serves one site (KILN_SITE), reports a heartbeat here every ~10 s, and the admin
// console shows them. A site's boot_url is what its machines are told to fetch from.
import { getHostRow, insertHostEvents, updateHostRow } from "@/db/queries/hosts";
import {
  countRecentBootServersOfSite,
  countSiteHosts,
  deleteBootServerRow,
  deleteSiteRow,
  getHostSiteBootUrl,
  getSiteBootUrl,
  getSiteRow,
  insertSite,
  insertSiteIfMissing,
  listBootServerRows,
  listSitesWithCounts,
  markBootServerStopped,
  updateSiteRow,
  upsertBootServer,
} from "@/db/queries/sites";
import { isForeignKeyViolation, isUniqueViolation } from "@/db/errors";
import { DEFAULT_SITE_ID, type HostRow, type SiteRow } from "@/db/schema";
import { assertAdmin, type Actor, type AdminActor } from "../access/actor";
import { recordAudit } from "../audit/audit";
import type { Clock } from "../clock";
import type { Db, DbOrTx } from "../db";
import { getEnv } from "../env";
import { AppError } from "../errors";
import { nameSchema } from "../validation/common";
import { parseInput } from "../validation/parse";
import { bootUrlSchema, siteCreateSchema, siteUpdateSchema } from "../validation/sites";

export { DEFAULT_SITE_ID };

/** A boot server heartbeats every ~10 s: three missed beats is late, twelve is down. */
export const LATE_AFTER_SECONDS = 30;
export const DOWN_AFTER_SECONDS = 120;

export type BootServerStatus = "up" | "late" | "down" | "stopped";

export function bootServerStatusOf(p: { secondsSinceHeartbeat: number; stoppedAt: Date | null }): BootServerStatus {
  if (p.stoppedAt) return "stopped";
  if (p.secondsSinceHeartbeat > DOWN_AFTER_SECONDS) return "down";
  if (p.secondsSinceHeartbeat > LATE_AFTER_SECONDS) return "late";
  return "up";
}

const ADMIN_ONLY = "Only administrators can manage sites and boot servers.";

function mapSiteError(e: unknown, name?: string): never {
  if (isUniqueViolation(e, "sites_name_unique")) throw AppError.field("name", `A site named ${name} already exists.`);
  throw e;
}

// ---- The boot server's side -------------------------------------------------------------

/**
 * The site a boot server serves, created on first use (a new site's first boot server needs
 * no admin step). `bootUrl` is stored only when the site is created here: an administrator's
 * later choice is never overwritten by a restart.
 */
export async function ensureSite(db: DbOrTx, name: string, opts: { bootUrl?: string | null } = {}): Promise<SiteRow> {
  const parsedName = nameSchema.safeParse(name);
  if (!parsedName.success) throw new AppError("validation", `KILN_SITE “${name.slice(0, 80)}”: ${parsedName.error.issues[0]?.message}`);
  const bootUrl = opts.bootUrl ? bootUrlSchema.safeParse(opts.bootUrl) : null;
  if (bootUrl && !bootUrl.success) throw new AppError("validation", `Boot URL “${opts.bootUrl!.slice(0, 200)}”: ${bootUrl.error.issues[0]?.message}`);
  return insertSiteIfMissing(db, { name: parsedName.data, bootUrl: bootUrl?.data ?? null });
}

export type BootServerHeartbeat = {
  /** Unique per process that may run at once: hostname:port. */
  name: string;
  siteId: string;
  /** Where this boot server listens, as its machines reach it. */
  url: string;
  version: string;
  pid: number;
  startedAt: Date;
  /** The interval since the previous heartbeat: its length and what happened in it. */
  intervalSeconds: number;
  requests: number;
  errors: number;
  /** Requests answered from the in-memory answers without a database read. */
  answeredFromMemory: number;
  p99Ms?: number | null;
  /** Since the process started. */
  totalRequests: number;
  totalErrors: number;
  /** False when database reads failed during the interval (answers then came from memory). */
  dbReachable?: boolean;
};

const count = (n: number) => (Number.isFinite(n) && n > 0 ? Math.floor(n) : 0);

/**
 * Called by every boot server every ~10 s: one INSERT … ON CONFLICT (name) DO UPDATE, no read.
 * The time is the database's (or the test's clock), so boot servers on machines whose clocks
 * disagree are all judged alike.
 */
export async function recordBootServerHeartbeat(db: DbOrTx, p: BootServerHeartbeat, clock: Clock = {}): Promise<void> {
  const requests = count(p.requests);
  const seconds = Number.isFinite(p.intervalSeconds) && p.intervalSeconds > 0 ? p.intervalSeconds : 0;
  await upsertBootServer(db, {
    name: p.name,
    siteId: p.siteId,
    url: p.url,
    version: p.version,
    pid: count(p.pid) || null,
    startedAt: p.startedAt,
    intervalSeconds: seconds,
    intervalRequests: Math.min(requests, 2_147_483_647),
    intervalErrors: Math.min(count(p.errors), 2_147_483_647),
    requestsPerSecond: seconds > 0 ? requests / seconds : 0,
    memoryRatio: requests > 0 ? Math.min(1, count(p.answeredFromMemory) / requests) : null,
    p99Ms: p.p99Ms !== null && p.p99Ms !== undefined && Number.isFinite(p.p99Ms) && p.p99Ms >= 0 ? p.p99Ms : null,
    totalRequests: count(p.totalRequests),
    totalErrors: count(p.totalErrors),
    dbReachable: p.dbReachable ?? true,
    at: clock.now ?? null,
  });
}

/** A clean shutdown says so, so the console shows "stopped" rather than "down" a while later. */
export async function recordBootServerStopped(db: DbOrTx, name: string, clock: Clock = {}): Promise<void> {
  await markBootServerStopped(db, { name, at: clock.now ?? null });
}

// ---- What machines are told -------------------------------------------------------------

/** The boot URL set on a host's site, or null (no URL set: the caller falls back to KILN_BOOT_URL). */
export async function bootUrlOfHost(db: DbOrTx, hostId: string): Promise<string | null> {
  return getHostSiteBootUrl(db, hostId);
}

/** The base URL a host's machine must use: its site's boot URL, else KILN_BOOT_URL. */
export async function siteBootUrlOf(db: DbOrTx, host: Pick<HostRow, "siteId">): Promise<string> {
  return (await getSiteBootUrl(db, host.siteId)) ?? getEnv().bootUrl;
}

// ---- The admin console --------------------------------------------------------------------

export type SiteView = { id: string; name: string; bootUrl: string | null; description: string; hostCount: number; isDefault: boolean; createdAt: string };

function toSiteView(s: SiteRow, hostCount: number): SiteView {
  return { id: s.id, name: s.name, bootUrl: s.bootUrl, description: s.description, hostCount, isDefault: s.id === DEFAULT_SITE_ID, createdAt: s.createdAt.toISOString() };
}

export async function listSites(db: Db, actor: Actor): Promise<SiteView[]> {
  assertAdmin(actor, ADMIN_ONLY);
  return (await listSitesWithCounts(db)).map((r) => toSiteView(r.site, r.hostCount));
}

export async function getSite(db: Db, actor: Actor, id: string): Promise<SiteView> {
  assertAdmin(actor, ADMIN_ONLY);
  const site = await getSiteRow(db, id);
  if (!site) throw new AppError("not_found", "That site does not exist.");
  return toSiteView(site, await countSiteHosts(db, id));
}

export async function createSite(db: Db, actor: Actor, input: unknown): Promise<SiteView> {
  assertAdmin(actor, ADMIN_ONLY);
  const data = parseInput(siteCreateSchema, input);
  try {
    return await db.transaction(async (tx) => {
      const site = await insertSite(tx, data);
      await recordAudit(tx, actor, { action: "site.create", targetType: "site", targetId: site.id, summary: `created site ${site.name}`, data });
      return toSiteView(site, 0);
    });
  } catch (e) {
    mapSiteError(e, data.name);
  }
}

/** Rename, set or clear the boot URL, change the description. Runs rendered before keep the URL they were given. */
export async function updateSite(db: Db, actor: Actor, id: string, input: unknown): Promise<SiteView> {
  assertAdmin(actor, ADMIN_ONLY);
  const data = parseInput(siteUpdateSchema, input);
  try {
    return await db.transaction(async (tx) => {
      const before = await getSiteRow(tx, id);
      if (!before) throw new AppError("not_found", "That site does not exist.");
      const site = (await updateSiteRow(tx, id, data))!;
      const changed = Object.keys(data);
      const renamed = data.name !== undefined && data.name !== before.name ? ` (was ${before.name})` : "";
      await recordAudit(tx, actor, { action: "site.update", targetType: "site", targetId: id, summary: `updated site ${site.name}${renamed}: ${changed.join(", ") || "nothing"}`, data });
      return toSiteView(site, await countSiteHosts(tx, id));
    });
  } catch (e) {
    mapSiteError(e, data.name);
  }
}

/**
 * Only an empty site goes, and not while a boot server still serves it (its next heartbeat
 * would fail). The default site never goes: hosts land in it when nothing else is said.
 */
export async function deleteSite(db: Db, actor: Actor, id: string, clock: Clock = {}): Promise<void> {
  assertAdmin(actor, ADMIN_ONLY);
  if (id === DEFAULT_SITE_ID) throw new AppError("conflict", "The default site cannot be deleted: hosts join it when no other site is given. Rename it instead.");
  await db.transaction(async (tx) => {
    const site = await getSiteRow(tx, id);
    if (!site) throw new AppError("not_found", "That site does not exist.");
    const hosts = await countSiteHosts(tx, id);
    if (hosts > 0) throw new AppError("conflict", `Site ${site.name} still has ${hosts} host${hosts === 1 ? "" : "s"}; move ${hosts === 1 ? "it" : "them"} to another site first.`);
    if ((await countRecentBootServersOfSite(tx, { siteId: id, seconds: DOWN_AFTER_SECONDS, now: clock.now ?? null })) > 0) {
      throw new AppError("conflict", `A boot server still serves site ${site.name}; stop it (or give it another KILN_SITE) first.`);
    }
    try {
      await deleteSiteRow(tx, id);
    } catch (e) {
      // A host moved into the site between the count and the delete (hosts.site_id is RESTRICT).
      if (isForeignKeyViolation(e)) throw new AppError("conflict", `Site ${site.name} gained a host meanwhile; move it to another site first.`);
      throw e;
    }
    await recordAudit(tx, actor, { action: "site.delete", targetType: "site", targetId: id, summary: `deleted site ${site.name}` });
  });
}

/** Moves a host to a site: its next answers (boot scripts, install files, agent URLs) use that site's boot URL. */
export async function setHostSite(db: Db, actor: Actor, hostId: string, siteId: string): Promise<{ hostId: string; siteId: string }> {
  const admin = assertAdmin(actor, ADMIN_ONLY);
  return db.transaction(async (tx) => {
    const host = await getHostRow(tx, hostId);
    if (!host) throw new AppError("not_found", "That host does not exist.");
    await moveHostToSite(tx, admin, host, siteId);
    return { hostId, siteId };
  });
}

/**
 * The move itself, inside the caller's transaction (setHostSite, and updateHost when its body
 * has siteId): the column, the host's timeline and one "host.site" audit entry. No-op when the
 * host is already there. Only an administrator moves hosts; the AdminActor says the caller checked.
 */
export async function moveHostToSite(tx: DbOrTx, actor: AdminActor, host: HostRow, siteId: string): Promise<void> {
  const site = await getSiteRow(tx, siteId);
  if (!site) throw AppError.field("siteId", "That site does not exist.");
  if (host.siteId === siteId) return;
  const from = await getSiteRow(tx, host.siteId);
  await updateHostRow(tx, host.id, { siteId });
  await insertHostEvents(tx, [{ hostId: host.id, kind: "updated", actorUserId: actor.user?.id ?? null, message: `moved to site ${site.name}` }]);
  await recordAudit(tx, actor, {
    action: "host.site",
    targetType: "host",
    targetId: host.id,
    summary: `moved host ${host.name} from site ${from?.name ?? "?"} to site ${site.name}`,
    data: { fromSiteId: host.siteId, siteId },
  });
}

export type BootServerView = {
  id: string;
  name: string;
  siteId: string;
  siteName: string;
  url: string;
  version: string;
  pid: number | null;
  status: BootServerStatus;
  startedAt: string;
  lastHeartbeatAt: string;
  secondsSinceHeartbeat: number;
  stoppedAt: string | null;
  requestsPerSecond: number;
  intervalRequests: number;
  intervalErrors: number;
  memoryRatio: number | null;
  p99Ms: number | null;
  totalRequests: number;
  totalErrors: number;
  dbReachable: boolean;
};

export async function listBootServers(db: Db, actor: Actor, clock: Clock = {}): Promise<BootServerView[]> {
  assertAdmin(actor, ADMIN_ONLY);
  const rows = await listBootServerRows(db, { now: clock.now ?? null });
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    siteId: r.siteId,
    siteName: r.siteName,
    url: r.url,
    version: r.version,
    pid: r.pid,
    status: bootServerStatusOf(r),
    startedAt: r.startedAt.toISOString(),
    lastHeartbeatAt: r.lastHeartbeatAt.toISOString(),
    secondsSinceHeartbeat: Math.max(0, Math.round(r.secondsSinceHeartbeat)),
    stoppedAt: r.stoppedAt?.toISOString() ?? null,
    requestsPerSecond: r.requestsPerSecond,
    intervalRequests: r.intervalRequests,
    intervalErrors: r.intervalErrors,
    memoryRatio: r.memoryRatio,
    p99Ms: r.p99Ms,
    totalRequests: r.totalRequests,
    totalErrors: r.totalErrors,
    dbReachable: r.dbReachable,
  }));
}

/** Forgets a boot server that is gone (stopped or down); a running one would only come back. */
export async function deleteBootServer(db: Db, actor: Actor, id: string, clock: Clock = {}): Promise<void> {
  assertAdmin(actor, ADMIN_ONLY);
  const server = (await listBootServerRows(db, { now: clock.now ?? null })).find((r) => r.id === id);
  if (!server) throw new AppError("not_found", "That boot server is not known.");
  const status = bootServerStatusOf(server);
  if (status === "up" || status === "late") throw new AppError("conflict", `Boot server ${server.name} is still running (last heartbeat ${Math.round(server.secondsSinceHeartbeat)} s ago); stop it first.`);
  await db.transaction(async (tx) => {
    if (!(await deleteBootServerRow(tx, id))) return;
    await recordAudit(tx, actor, { action: "boot_server.delete", targetType: "boot_server", targetId: id, summary: `forgot boot server ${server.name} of site ${server.siteName}` });
  });
}
