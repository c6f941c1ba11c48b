import { sql } from "drizzle-orm";
import { bigint, index, integer, pgEnum, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { hosts, leases, projects } from "./inventory";
import { users } from "./users";
import { LEASE_DISK_STATES } from "./enums";

// Extra disks for a lease (issue 18, docs/diskless.md "Extra disks"): sparse files under the data
// directory, exported over NBD to the one machine they were made for, wiped at the lease's end.
//
// The row is the intent; lib/extra-disks/reconcile.ts makes the files and exports match it, so
// a crash between the commit and the file work is mended by the next run:
//   creating → ready      the file is made (truncate) and exported
//   creating|ready → wiping   the holder deleted it, or the host left the lease
//   wiping → wiped        export stopped, file deleted; the row stays as history
// A disk counts against the storage quotas (its full size, sparse or not) until it is wiped.
export const leaseDiskState = pgEnum("lease_disk_state", LEASE_DISK_STATES);

export const leaseDisks = pgTable(
  "lease_disks",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    // The lease and host it belongs to: it lives while that host is held under that lease.
    leaseId: uuid("lease_id")
      .notNull()
      .references(() => leases.id, { onDelete: "restrict" }),
    hostId: uuid("host_id")
      .notNull()
      .references(() => hosts.id, { onDelete: "restrict" }),
    // Charged here (the lease's project), and to the person who asked, as image uploads are.
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "restrict" }),
    createdByUserId: uuid("created_by_user_id").references(() => users.id, { onDelete: "set null" }),
    // disk1, disk2…: the lowest number free on the host among its live disks.
    position: integer("position").notNull(),
    name: text("name").notNull(),
    sizeBytes: bigint("size_bytes", { mode: "number" }).notNull(),
    // Absolute path of the sparse file.
    path: text("path").notNull(),
    // The NBD export name: a random secret, the only thing that lets a client open this disk.
    // Given to the host's rendered templates only, never in API answers.
    exportName: text("export_name").notNull(),
    // Where the export listens, once it runs (set by the reconciler).
    exportAddress: text("export_address"),
    exportPort: integer("export_port"),
    state: leaseDiskState("state").notNull().default("creating"),
    // The last failure of the reconciler on this row (shown to the holder); cleared on success.
    lastError: text("last_error"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    readyAt: timestamp("ready_at", { withTimezone: true }),
    wipeRequestedAt: timestamp("wipe_requested_at", { withTimezone: true }),
    wipedAt: timestamp("wiped_at", { withTimezone: true }),
  },
  (t) => [
    uniqueIndex("lease_disks_export_name_key").on(t.exportName),
    uniqueIndex("lease_disks_host_position_live_key").on(t.hostId, t.position).where(sql`${t.state} <> 'wiped'`),
    index("lease_disks_lease_idx").on(t.leaseId),
    index("lease_disks_project_live_idx").on(t.projectId).where(sql`${t.state} <> 'wiped'`),
    index("lease_disks_unfinished_idx").on(t.state).where(sql`${t.state} <> 'wiped'`),
  ],
);

export type LeaseDiskRow = typeof leaseDisks.$inferSelect;
export type LeaseDiskState = (typeof leaseDiskState.enumValues)[number];
