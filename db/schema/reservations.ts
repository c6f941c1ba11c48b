import { sql } from "drizzle-orm";
import { bigserial, check, customType, index, integer, jsonb, pgEnum, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { hosts, leases, pools, projects } from "./inventory";
import { users } from "./users";
import { RESERVATION_STATES } from "./enums";

/** PostgreSQL's tstzrange, read and written as its text form: `["2026-12-08 09:00:00+00","2026-12-08 18:00:00+00")`. */
export const tstzrange = customType<{ data: string }>({
  dataType() {
    return "tstzrange";
  },
});

export const reservationState = pgEnum("reservation_state", RESERVATION_STATES);

/** What a reservation asks for besides the pool and the count. */
// The keys are the lease's hardware filter (lib/validation/inventory.ts hardwareFilterSchema), so
// the same SQL (db/queries/host-criteria.ts) chooses hosts for both.
export type ReservationCriteria = {
  tags?: string[];
  minCores?: number;
  minMemoryMb?: number;
  minDiskGb?: number;
  diskType?: "hdd" | "ssd" | "nvme";
  firmware?: "bios" | "uefi";
  /** hosts.arch; set from the deploy's image version when the reservation deploys one. */
  arch?: "x86_64" | "arm64";
  cpuModel?: string;
  minNicSpeedMbps?: number;
  /** Named hosts (admins, or a holder picking from the calendar): exactly these, count = their number. */
  hostIds?: string[];
};

/**
 * "Ready at the start": what to deploy before the start (the shape of a run start, lib/validation/deployments.ts,
 * for install or deploy_image), pinned at admission to concrete versions.
 */
export type ReservationDeploy = {
  action: "install" | "deploy_image";
  imageId?: string;
  imageVersion?: number;
  systemTemplateId?: string;
  systemTemplateVersion?: number;
  unattendedTemplateId?: string | null;
  unattendedTemplateVersion?: number | null;
  vars?: Record<string, unknown>;
  disk?: string;
  postInstall?: unknown;
};

/** The plan for "ready at the start", and afterwards whether it was met (per host). */
export type ReservationPlan = {
  leadSeconds: number;
  /** How the lead was found: measured runs of this image/template on these hosts, on any host, or the default. */
  basis: string;
  samples: number;
  outcome?: { met: boolean; checkedAt: string; hosts: { hostId: string; name: string; state: string; finishedAt: string | null; met: boolean }[] };
};

export const reservations = pgTable(
  "reservations",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "restrict" }),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "restrict" }),
    createdByUserId: uuid("created_by_user_id").references(() => users.id, { onDelete: "set null" }),
    poolId: uuid("pool_id").references(() => pools.id, { onDelete: "set null" }),
    title: text("title").notNull().default(""),
    count: integer("count").notNull(),
    criteria: jsonb("criteria").$type<ReservationCriteria>().notNull().default({}),
    startsAt: timestamp("starts_at", { withTimezone: true }).notNull(),
    endsAt: timestamp("ends_at", { withTimezone: true }).notNull(),
    // When the hosts are taken: starts_at, or earlier by the deploy lead for "ready at the start".
    // The hosts are booked from here (host_bookings).
    prepareFrom: timestamp("prepare_from", { withTimezone: true }).notNull(),
    state: reservationState("state").notNull().default("scheduled"),
    deploy: jsonb("deploy").$type<ReservationDeploy>(),
    plan: jsonb("plan").$type<ReservationPlan>(),
    leaseId: uuid("lease_id").references(() => leases.id, { onDelete: "set null" }),
    failureReason: text("failure_reason"),
    // Reminder offsets (hours before the start) already mailed.
    remindersSent: integer("reminders_sent").array().notNull().default(sql`'{}'::int[]`),
    cancelledAt: timestamp("cancelled_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("reservations_project_idx").on(t.projectId, t.startsAt),
    index("reservations_user_idx").on(t.userId, t.startsAt),
    index("reservations_pool_time_idx").on(t.poolId, t.startsAt),
    index("reservations_due_idx").on(t.prepareFrom).where(sql`${t.state} = 'scheduled'`),
    check("reservations_ends_after_start", sql`${t.endsAt} > ${t.startsAt}`),
    check("reservations_prepare_before_start", sql`${t.prepareFrom} <= ${t.startsAt}`),
    check("reservations_count_positive", sql`${t.count} > 0`),
  ],
);

// The hosts a reservation was promised, with history: a host that failed before the start is
// replaced (replaced_at set, a new row for its replacement), so the page can say what changed.
export const reservationHosts = pgTable(
  "reservation_hosts",
  {
    reservationId: uuid("reservation_id")
      .notNull()
      .references(() => reservations.id, { onDelete: "cascade" }),
    hostId: uuid("host_id")
      .notNull()
      .references(() => hosts.id, { onDelete: "cascade" }),
    chosenAt: timestamp("chosen_at", { withTimezone: true }).notNull().defaultNow(),
    replacedAt: timestamp("replaced_at", { withTimezone: true }),
    replacedReason: text("replaced_reason"),
  },
  (t) => [primaryKey({ columns: [t.reservationId, t.hostId] }), index("reservation_hosts_host_idx").on(t.hostId)],
);

// Who holds each host when: one row per (host, interval) claimed by an active lease (kept in step
// with lease_hosts and leases.ends_at / grace_ends_at by triggers, migration 0017) or by a scheduled
// reservation. An exclusion constraint (btree_gist) forbids two overlapping rows for one host: the
// database itself rules out double bookings, whatever races the application code has.
export const hostBookings = pgTable(
  "host_bookings",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    hostId: uuid("host_id")
      .notNull()
      .references(() => hosts.id, { onDelete: "cascade" }),
    during: tstzrange("during").notNull(),
    leaseId: uuid("lease_id").references(() => leases.id, { onDelete: "cascade" }),
    reservationId: uuid("reservation_id").references(() => reservations.id, { onDelete: "cascade" }),
  },
  (t) => [
    index("host_bookings_lease_idx").on(t.leaseId),
    index("host_bookings_reservation_idx").on(t.reservationId),
    check("host_bookings_one_owner", sql`(${t.leaseId} is null) <> (${t.reservationId} is null)`),
  ],
);

// Time an admin takes hosts out of service, for a pool or for one host: no lease or reservation
// may overlap it.
export const maintenanceWindows = pgTable(
  "maintenance_windows",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    poolId: uuid("pool_id").references(() => pools.id, { onDelete: "cascade" }),
    hostId: uuid("host_id").references(() => hosts.id, { onDelete: "cascade" }),
    startsAt: timestamp("starts_at", { withTimezone: true }).notNull(),
    endsAt: timestamp("ends_at", { withTimezone: true }).notNull(),
    reason: text("reason").notNull().default(""),
    createdByUserId: uuid("created_by_user_id").references(() => users.id, { onDelete: "set null" }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("maintenance_windows_pool_idx").on(t.poolId, t.startsAt),
    index("maintenance_windows_host_idx").on(t.hostId, t.startsAt),
    check("maintenance_windows_target", sql`${t.poolId} is not null or ${t.hostId} is not null`),
    check("maintenance_windows_ends_after_start", sql`${t.endsAt} > ${t.startsAt}`),
  ],
);

// An ICS feed's secret: a calendar client cannot sign in, so the feed URL carries a token
// (stored as its sha256). pool_id null: the user's own leases and reservations.
export const calendarFeeds = pgTable(
  "calendar_feeds",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    poolId: uuid("pool_id").references(() => pools.id, { onDelete: "cascade" }),
    tokenHash: text("token_hash").notNull().unique(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
  },
  (t) => [index("calendar_feeds_user_idx").on(t.userId)],
);

export type ReservationRow = typeof reservations.$inferSelect;
export type ReservationState = (typeof reservationState.enumValues)[number];
export type ReservationHostRow = typeof reservationHosts.$inferSelect;
export type HostBookingRow = typeof hostBookings.$inferSelect;
export type MaintenanceWindowRow = typeof maintenanceWindows.$inferSelect;
export type CalendarFeedRow = typeof calendarFeeds.$inferSelect;
