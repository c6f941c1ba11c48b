import { bigint, boolean, index, integer, pgTable, real, text, timestamp, uuid } from "drizzle-orm/pg-core";

/**
 * The site every host belongs to until an administrator says otherwise. A fixed id (created
 * by the migration that made sites) so `hosts.site_id` can default to it in the database
 * itself: every insert of a host, from any code path, lands in a site without knowing sites.
 */
export const DEFAULT_SITE_ID = "00000000-0000-4000-8000-000000000001";
export const DEFAULT_SITE_NAME = "default";

// A place with its own machines, DHCP and boot server (docs/topology.md).
export const sites = pgTable("sites", {
  id: uuid("id").primaryKey().defaultRandom(),
  name: text("name").notNull().unique(),
  // What the site's machines use to reach its boot server (iPXE, installers, the deploy
  // agent). Null: KILN_BOOT_URL. Stored, not per-process, because run texts are rendered by
  // whichever process creates the run (the web process), not by the site's boot server.
  bootUrl: text("boot_url"),
  description: text("description").notNull().default(""),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

// One row per boot server process ever started (name = hostname:port), overwritten by its
// heartbeat every ~10 s. Counters of the last interval and since the process started.
export const bootServers = pgTable(
  "boot_servers",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    name: text("name").notNull().unique(),
    // Cascade: a row is telemetry; a site is only deleted when none of its boot servers is alive.
    siteId: uuid("site_id")
      .notNull()
      .references(() => sites.id, { onDelete: "cascade" }),
    url: text("url").notNull().default(""),
    version: text("version").notNull().default(""),
    pid: integer("pid"),
    startedAt: timestamp("started_at", { withTimezone: true }).notNull(),
    lastHeartbeatAt: timestamp("last_heartbeat_at", { withTimezone: true }).notNull(),
    // Set by a clean shutdown, cleared by the next heartbeat.
    stoppedAt: timestamp("stopped_at", { withTimezone: true }),
    intervalSeconds: real("interval_seconds").notNull().default(0),
    intervalRequests: integer("interval_requests").notNull().default(0),
    intervalErrors: integer("interval_errors").notNull().default(0),
    requestsPerSecond: real("requests_per_second").notNull().default(0),
    // Share of the interval's answers given from memory (null: no requests in the interval).
    memoryRatio: real("memory_ratio"),
    p99Ms: real("p99_ms"),
    totalRequests: bigint("total_requests", { mode: "number" }).notNull().default(0),
    totalErrors: bigint("total_errors", { mode: "number" }).notNull().default(0),
    dbReachable: boolean("db_reachable").notNull().default(true),
  },
  (t) => [index("boot_servers_site_idx").on(t.siteId)],
);

export type SiteRow = typeof sites.$inferSelect;
export type BootServerRow = typeof bootServers.$inferSelect;
