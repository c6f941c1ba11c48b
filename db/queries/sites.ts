import { and, asc, count, eq, isNull, sql } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { bootServers, hosts, sites, type BootServerRow, type SiteRow } from "../schema";

export type SiteInsert = typeof sites.$inferInsert;

export async function getSiteRow(db: DbOrTx, id: string): Promise<SiteRow | undefined> {
  const [row] = await db.select().from(sites).where(eq(sites.id, id)).limit(1);
  return row;
}

export async function getSiteByName(db: DbOrTx, name: string): Promise<SiteRow | undefined> {
  const [row] = await db.select().from(sites).where(eq(sites.name, name)).limit(1);
  return row;
}

/** Creates the site unless one of that name exists; the existing row is left as it is. */
export async function insertSiteIfMissing(db: DbOrTx, values: SiteInsert): Promise<SiteRow> {
  const [created] = await db.insert(sites).values(values).onConflictDoNothing({ target: sites.name }).returning();
  return created ?? (await getSiteByName(db, values.name))!;
}

export async function insertSite(db: DbOrTx, values: SiteInsert): Promise<SiteRow> {
  const [row] = await db.insert(sites).values(values).returning();
  return row!;
}

export async function updateSiteRow(db: DbOrTx, id: string, values: Partial<SiteInsert>): Promise<SiteRow | undefined> {
  const [row] = await db.update(sites).set(values).where(eq(sites.id, id)).returning();
  return row;
}

export async function deleteSiteRow(db: DbOrTx, id: string): Promise<boolean> {
  return (await db.delete(sites).where(eq(sites.id, id)).returning({ id: sites.id })).length > 0;
}

/** Every site with its number of hosts, by name. */
export async function listSitesWithCounts(db: DbOrTx) {
  return db
    .select({ site: sites, hostCount: count(hosts.id) })
    .from(sites)
    .leftJoin(hosts, eq(hosts.siteId, sites.id))
    .groupBy(sites.id)
    .orderBy(asc(sites.name));
}

export async function countSiteHosts(db: DbOrTx, siteId: string): Promise<number> {
  const [r] = await db.select({ n: count() }).from(hosts).where(eq(hosts.siteId, siteId));
  return r?.n ?? 0;
}

/** The boot URL of a site (null: none set, or no such site). One primary-key read. */
export async function getSiteBootUrl(db: DbOrTx, siteId: string): Promise<string | null> {
  const [row] = await db.select({ bootUrl: sites.bootUrl }).from(sites).where(eq(sites.id, siteId)).limit(1);
  return row?.bootUrl ?? null;
}

/** The boot URL of a host's site (null: none set, or no such host). */
export async function getHostSiteBootUrl(db: DbOrTx, hostId: string): Promise<string | null> {
  const [row] = await db.select({ bootUrl: sites.bootUrl }).from(hosts).innerJoin(sites, eq(sites.id, hosts.siteId)).where(eq(hosts.id, hostId)).limit(1);
  return row?.bootUrl ?? null;
}

export type BootServerUpsert = Omit<typeof bootServers.$inferInsert, "id" | "lastHeartbeatAt" | "stoppedAt"> & {
  /** Null: the database's now(), so every boot server is judged by one clock whatever its own says. */
  at: Date | null;
};

/**
 * One statement per heartbeat: insert the boot server, or overwrite its row (a restart on the
 * same hostname:port takes its row over). Clears stopped_at: it is running again.
 */
export async function upsertBootServer(db: DbOrTx, v: BootServerUpsert): Promise<void> {
  const at = v.at ? sql`${v.at.toISOString()}::timestamptz` : sql`now()`;
  const { at: _at, ...values } = v;
  const row = { ...values, lastHeartbeatAt: at, stoppedAt: null };
  await db
    .insert(bootServers)
    .values(row)
    .onConflictDoUpdate({ target: bootServers.name, set: row });
}

export async function markBootServerStopped(db: DbOrTx, p: { name: string; at: Date | null }): Promise<void> {
  await db
    .update(bootServers)
    .set({ stoppedAt: p.at ? sql`${p.at.toISOString()}::timestamptz` : sql`now()` })
    .where(and(eq(bootServers.name, p.name), isNull(bootServers.stoppedAt)));
}

export type BootServerListRow = BootServerRow & { siteName: string; secondsSinceHeartbeat: number };

/**
 * Every boot server with its site's name and the seconds since its last heartbeat, measured on
 * the database's clock (or `now` when a test fixes it), by site then name.
 */
export async function listBootServerRows(db: DbOrTx, p: { now: Date | null }): Promise<BootServerListRow[]> {
  const now = p.now ? sql`${p.now.toISOString()}::timestamptz` : sql`now()`;
  const rows = await db
    .select({
      server: bootServers,
      siteName: sites.name,
      secondsSinceHeartbeat: sql<number>`extract(epoch from (${now} - ${bootServers.lastHeartbeatAt}))`.mapWith(Number),
    })
    .from(bootServers)
    .innerJoin(sites, eq(sites.id, bootServers.siteId))
    .orderBy(asc(sites.name), asc(bootServers.name));
  return rows.map((r) => ({ ...r.server, siteName: r.siteName, secondsSinceHeartbeat: r.secondsSinceHeartbeat }));
}

/** Boot servers of a site heard from within `seconds` and not stopped: they still use the site. */
export async function countRecentBootServersOfSite(db: DbOrTx, p: { siteId: string; seconds: number; now: Date | null }): Promise<number> {
  const now = p.now ? sql`${p.now.toISOString()}::timestamptz` : sql`now()`;
  const [r] = await db
    .select({ n: count() })
    .from(bootServers)
    .where(and(eq(bootServers.siteId, p.siteId), isNull(bootServers.stoppedAt), sql`${bootServers.lastHeartbeatAt} > ${now} - make_interval(secs => ${p.seconds})`));
  return r?.n ?? 0;
}

export async function deleteBootServerRow(db: DbOrTx, id: string): Promise<BootServerRow | undefined> {
  const [row] = await db.delete(bootServers).where(eq(bootServers.id, id)).returning();
  return row;
}
