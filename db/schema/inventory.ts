import { sql } from "drizzle-orm";
import {
  bigserial,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { DEFAULT_SITE_ID, sites } from "./sites";
import { users } from "./users";
import { HOST_ADDRESS_SOURCES, HOST_ARCHES, HOST_STATES, LEASE_END_STAGES, LEASE_STATES, POWER_STATES, PROJECT_ROLES } from "./enums";

// The lifecycle of a machine. lib/hosts/state-machine.ts is the only place that says
// which transitions are legal; db/queries/hosts.ts applies them with a guarded UPDATE.
export const hostState = pgEnum("host_state", HOST_STATES);

// The instruction set a machine runs (beside its firmware, facts.firmware bios|uefi): what image
// versions it can run (image_versions.arch). Set from the boot path where it tells (iPXE's
// platform, a Pi's TFTP request), from commissioning, or by an admin.
export const hostArch = pgEnum("host_arch", HOST_ARCHES);

export const pools = pgTable("pools", {
  id: uuid("id").primaryKey().defaultRandom(),
  name: text("name").notNull().unique(),
  description: text("description").notNull().default(""),
  defaultLeaseHours: integer("default_lease_hours").notNull().default(24),
  maxLeaseHours: integer("max_lease_hours").notNull().default(168),
  // The staged end of a lease (lib/leases/staged-end.ts): minutes after a lease's end during which
  // its machines are kept, powered, for the holder to capture a disk before the wipe. 0 = none.
  endGraceMinutes: integer("end_grace_minutes").notNull().default(0),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

export type PowerSettings = { driver: string; params: Record<string, unknown> };
export type DiskFact = { name: string; sizeBytes?: number; serial?: string; model?: string; rotational?: boolean; type?: "hdd" | "ssd" | "nvme" };

export const hosts = pgTable(
  "hosts",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    name: text("name").notNull(),
    state: hostState("state").notNull().default("new"),
    poolId: uuid("pool_id").references(() => pools.id, { onDelete: "set null" }),
    // Which boot server answers it (docs/topology.md). Restrict: a site with hosts is not deleted.
    siteId: uuid("site_id")
      .notNull()
      .default(sql.raw(`'${DEFAULT_SITE_ID}'::uuid`))
      .references(() => sites.id, { onDelete: "restrict" }),
    tags: text("tags").array().notNull().default(sql`'{}'::text[]`),
    cpuCores: integer("cpu_cores"),
    memoryMb: integer("memory_mb"),
    disks: jsonb("disks").$type<DiskFact[]>().notNull().default([]),
    // Anything else the inventory reports (vendor, model, BIOS…), shown as-is.
    facts: jsonb("facts").$type<Record<string, unknown>>().notNull().default({}),
    powerDriver: text("power_driver").notNull().default("manual"),
    // Non-secret driver parameters (address, port, username…).
    powerParams: jsonb("power_params").$type<Record<string, unknown>>().notNull().default({}),
    // AES-256-GCM sealed JSON of the secret parameters (passwords), see lib/crypto/secret-box.ts.
    powerSecrets: text("power_secrets"),
    notes: text("notes").notNull().default(""),
    hostnameHint: text("hostname_hint"),
    arch: hostArch("arch").notNull().default("x86_64"),
    // A Raspberry Pi's serial number (8 lower-case hex digits), the name its firmware asks TFTP
    // under (docs/raspberry-pi.md); null for machines that boot by MAC.
    piSerial: text("pi_serial"),
    sourceIp: text("source_ip"),
    firstSeenAt: timestamp("first_seen_at", { withTimezone: true }),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true }),
    stateChangedAt: timestamp("state_changed_at", { withTimezone: true }).notNull().defaultNow(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("hosts_name_key").on(t.name),
    uniqueIndex("hosts_pi_serial_key").on(t.piSerial),
    index("hosts_state_idx").on(t.state),
    index("hosts_pool_state_idx").on(t.poolId, t.state),
    index("hosts_site_idx").on(t.siteId),
    index("hosts_tags_idx").using("gin", t.tags),
  ],
);

export const hostInterfaces = pgTable(
  "host_interfaces",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    hostId: uuid("host_id")
      .notNull()
      .references(() => hosts.id, { onDelete: "cascade" }),
    // Normalised lower-case, colon-separated: aa:bb:cc:dd:ee:ff.
    mac: text("mac").notNull(),
    name: text("name").notNull().default(""),
    isPxe: boolean("is_pxe").notNull().default(false),
  },
  (t) => [
    uniqueIndex("host_interfaces_mac_key").on(t.mac),
    index("host_interfaces_host_idx").on(t.hostId),
    uniqueIndex("host_interfaces_one_pxe_key").on(t.hostId).where(sql`${t.isPxe}`),
  ],
);

export const hostEvents = pgTable(
  "host_events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    hostId: uuid("host_id")
      .notNull()
      .references(() => hosts.id, { onDelete: "cascade" }),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
    actorUserId: uuid("actor_user_id").references(() => users.id, { onDelete: "set null" }),
    kind: text("kind").notNull(),
    fromState: hostState("from_state"),
    toState: hostState("to_state"),
    message: text("message").notNull().default(""),
    leaseId: uuid("lease_id"),
  },
  (t) => [index("host_events_host_at_idx").on(t.hostId, t.at)],
);

// The power state the worker last read from a host's driver (lib/power/poll.ts). Its own
// table, not columns of hosts: a poll every minute must not wake the boot servers, whose
// NOTIFY trigger fires on any change of a hosts row.
export const powerState = pgEnum("power_state", POWER_STATES);

export const hostPower = pgTable("host_power", {
  hostId: uuid("host_id")
    .primaryKey()
    .references(() => hosts.id, { onDelete: "cascade" }),
  state: powerState("state").notNull().default("unknown"),
  // The driver's own words ("VM is running", "Chassis Power is off", the error).
  message: text("message").notNull().default(""),
  checkedAt: timestamp("checked_at", { withTimezone: true }).notNull().defaultNow(),
  // When the state last differed from the one before (the badge says "off since …").
  changedAt: timestamp("changed_at", { withTimezone: true }).notNull().defaultNow(),
});

// Addresses Kiln has learned for a host, with where each came from: the source of a boot
// request, the ramdisk agent's inventory, the installed system's "done" call. One row per
// (host, address); a newer sighting moves seen_at.
export const hostAddressSource = pgEnum("host_address_source", HOST_ADDRESS_SOURCES);

export const hostAddresses = pgTable(
  "host_addresses",
  {
    hostId: uuid("host_id")
      .notNull()
      .references(() => hosts.id, { onDelete: "cascade" }),
    address: text("address").notNull(),
    source: hostAddressSource("source").notNull(),
    // The interface it was seen on, when the reporter said (MAC, normalised like host_interfaces).
    mac: text("mac"),
    seenAt: timestamp("seen_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.hostId, t.address, t.source] }), index("host_addresses_host_seen_idx").on(t.hostId, t.seenAt)],
);

export const projects = pgTable("projects", {
  id: uuid("id").primaryKey().defaultRandom(),
  name: text("name").notNull().unique(),
  description: text("description").notNull().default(""),
  // Null = unlimited.
  maxHosts: integer("max_hosts"),
  maxLeaseHours: integer("max_lease_hours"),
  maxNodeHoursPerMonth: integer("max_node_hours_per_month"),
  // Image storage charged to the project (its images' versions and uploads in progress).
  maxStorageGb: integer("max_storage_gb"),
  // How far ahead a reservation may start, in days (lib/reservations). Null = unlimited.
  maxAdvanceDays: integer("max_advance_days"),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

export const projectRole = pgEnum("project_role", PROJECT_ROLES);

export const projectMembers = pgTable(
  "project_members",
  {
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    role: projectRole("role").notNull().default("member"),
    addedAt: timestamp("added_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.userId] }), index("project_members_user_idx").on(t.userId)],
);

export const leaseState = pgEnum("lease_state", LEASE_STATES);
export const leaseEndStage = pgEnum("lease_end_stage", LEASE_END_STAGES);

export const leases = pgTable(
  "leases",
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
    state: leaseState("state").notNull().default("active"),
    startsAt: timestamp("starts_at", { withTimezone: true }).notNull(),
    endsAt: timestamp("ends_at", { withTimezone: true }).notNull(),
    endedAt: timestamp("ended_at", { withTimezone: true }),
    // Reminder offsets (hours before the end) already mailed for the current end time.
    remindersSent: integer("reminders_sent").array().notNull().default(sql`'{}'::int[]`),
    // The staged end: the stage reached (null before any) and, in grace, when the grace ends.
    // While in grace the lease is still active and its host_bookings run to grace_ends_at.
    endStage: leaseEndStage("end_stage"),
    graceEndsAt: timestamp("grace_ends_at", { withTimezone: true }),
    // The reservation this lease was made from, if any.
    reservationId: uuid("reservation_id"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("leases_user_state_idx").on(t.userId, t.state),
    index("leases_project_state_idx").on(t.projectId, t.state),
    index("leases_active_ends_idx").on(t.endsAt).where(sql`${t.state} = 'active'`),
    check("leases_ends_after_start", sql`${t.endsAt} > ${t.startsAt}`),
  ],
);

export const leaseHosts = pgTable(
  "lease_hosts",
  {
    leaseId: uuid("lease_id")
      .notNull()
      .references(() => leases.id, { onDelete: "cascade" }),
    hostId: uuid("host_id")
      .notNull()
      .references(() => hosts.id, { onDelete: "restrict" }),
    addedAt: timestamp("added_at", { withTimezone: true }).notNull(),
    // Set when the host leaves the lease (release, expiry, hand-over).
    releasedAt: timestamp("released_at", { withTimezone: true }),
  },
  (t) => [
    primaryKey({ columns: [t.leaseId, t.hostId] }),
    // The database itself guarantees that no host is in two active leases.
    uniqueIndex("lease_hosts_one_active_key").on(t.hostId).where(sql`${t.releasedAt} is null`),
  ],
);

export const leaseEvents = pgTable(
  "lease_events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    leaseId: uuid("lease_id")
      .notNull()
      .references(() => leases.id, { onDelete: "cascade" }),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
    actorUserId: uuid("actor_user_id").references(() => users.id, { onDelete: "set null" }),
    kind: text("kind").notNull(),
    message: text("message").notNull().default(""),
    data: jsonb("data").$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [index("lease_events_lease_at_idx").on(t.leaseId, t.at)],
);

export type HostRow = typeof hosts.$inferSelect;
export type HostState = (typeof hostState.enumValues)[number];
export type HostPowerRow = typeof hostPower.$inferSelect;
export type PowerStateValue = (typeof powerState.enumValues)[number];
export type HostAddressRow = typeof hostAddresses.$inferSelect;
export type HostAddressSource = (typeof hostAddressSource.enumValues)[number];
export type PoolRow = typeof pools.$inferSelect;
export type ProjectRow = typeof projects.$inferSelect;
export type LeaseRow = typeof leases.$inferSelect;
export type LeaseEndStage = (typeof leaseEndStage.enumValues)[number];
