import { sql } from "drizzle-orm";
import { index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { deployments } from "./deployments";
import { hosts } from "./inventory";

// A host's diskless root (docs/diskless.md): a qcow2 overlay of an image version, exported over
// NBD. The overlay file is the state; the export (a qemu-nbd process) is re-created from this row
// whenever Kiln starts. Live until released (released_at); at most one live root per host, which
// every network boot of the host boots again until reinstall (a new empty overlay) or release.
export const disklessRoots = pgTable(
  "diskless_roots",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    hostId: uuid("host_id")
      .notNull()
      .references(() => hosts.id, { onDelete: "cascade" }),
    leaseId: uuid("lease_id"),
    projectId: uuid("project_id"),
    // The run that booted it first (its steps and live view); later boots have no run.
    deploymentId: uuid("deployment_id").references(() => deployments.id, { onDelete: "set null" }),
    imageId: uuid("image_id").notNull(),
    imageVersion: integer("image_version").notNull(),
    // The backing file (the version's stored raw bytes, or the raw cache of a compressed one).
    basePath: text("base_path").notNull(),
    overlayPath: text("overlay_path").notNull(),
    // The NBD export's name: the secret only this host's boot answer carries.
    exportName: text("export_name").notNull(),
    bindAddress: text("bind_address").notNull(),
    // Kept so a restarted export listens where the machine's nbd-client reconnects.
    port: integer("port"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    // Reinstall: when the overlay was last replaced by an empty one.
    resetAt: timestamp("reset_at", { withTimezone: true }),
    releasedAt: timestamp("released_at", { withTimezone: true }),
  },
  (t) => [
    uniqueIndex("diskless_roots_live_host_key").on(t.hostId).where(sql`${t.releasedAt} is null`),
    uniqueIndex("diskless_roots_export_name_key").on(t.exportName),
    index("diskless_roots_live_idx").on(t.releasedAt),
  ],
);

export type DisklessRootRow = typeof disklessRoots.$inferSelect;
