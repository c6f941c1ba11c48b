import { sql } from "drizzle-orm";
import { index, integer, pgEnum, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { users } from "./users";
import { DIRECTORY_ENTRY_DESIRED_STATES, DIRECTORY_ENTRY_ORIGINS, VPN_KEY_ORIGINS } from "./enums";

// Lab access (issue 17): the directory entries Kiln writes for its local accounts, and the
// WireGuard devices people add to reach their leased machines.

export const directoryEntryOrigin = pgEnum("directory_entry_origin", DIRECTORY_ENTRY_ORIGINS);
export const directoryEntryDesired = pgEnum("directory_entry_desired", DIRECTORY_ENTRY_DESIRED_STATES);

/**
 * One row per directory entry Kiln manages. The reconciler (workers/jobs/sync-directory.ts)
 * makes the directory match `desired` whenever `synced_version < version`, so a crash between
 * Kiln's commit and the directory write is mended by the next run: the row is the intent.
 */
export const directoryEntries = pgTable(
  "directory_entries",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    // Kept after the account is deleted (set null) until the entry is removed from the directory.
    userId: uuid("user_id").references(() => users.id, { onDelete: "set null" }),
    uid: text("uid").notNull(),
    dn: text("dn").notNull(),
    uidNumber: integer("uid_number").notNull(),
    gidNumber: integer("gid_number").notNull(),
    origin: directoryEntryOrigin("origin").notNull().default("created"),
    desired: directoryEntryDesired("desired").notNull().default("present"),
    // Bumped by every change Kiln wants written (password, state, name); the reconciler
    // records the version it wrote, so a change made while it ran is written next time.
    version: integer("version").notNull().default(1),
    syncedVersion: integer("synced_version").notNull().default(0),
    syncedAt: timestamp("synced_at", { withTimezone: true }),
    // The last refusal or failure, shown on the admin page; cleared by a successful write.
    lastError: text("last_error"),
    lastErrorAt: timestamp("last_error_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("directory_entries_user_key").on(t.userId).where(sql`${t.userId} is not null`),
    uniqueIndex("directory_entries_uid_key").on(t.uid),
    uniqueIndex("directory_entries_dn_key").on(t.dn),
    uniqueIndex("directory_entries_uid_number_key").on(t.uidNumber),
    index("directory_entries_pending_idx").on(t.updatedAt).where(sql`${t.syncedVersion} < ${t.version}`),
  ],
);

export const vpnKeyOrigin = pgEnum("vpn_key_origin", VPN_KEY_ORIGINS);

/** A person's WireGuard device: its public key and the tunnel address Kiln gave it. */
export const vpnDevices = pgTable(
  "vpn_devices",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    // Base64 of the 32-byte Curve25519 public key, as `wg` prints it.
    publicKey: text("public_key").notNull(),
    // One address (IPv4 dotted quad) from KILN_VPN_ADDRESS_RANGE; freed when the device is revoked.
    address: text("address").notNull(),
    keyOrigin: vpnKeyOrigin("key_origin").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    revokedBy: uuid("revoked_by").references(() => users.id, { onDelete: "set null" }),
  },
  (t) => [
    uniqueIndex("vpn_devices_address_key").on(t.address).where(sql`${t.revokedAt} is null`),
    uniqueIndex("vpn_devices_public_key_key").on(t.publicKey).where(sql`${t.revokedAt} is null`),
    index("vpn_devices_user_idx").on(t.userId, t.createdAt),
  ],
);

export type DirectoryEntryRow = typeof directoryEntries.$inferSelect;
export type DirectoryEntryDesired = (typeof directoryEntryDesired.enumValues)[number];
export type VpnDeviceRow = typeof vpnDevices.$inferSelect;
export type VpnKeyOrigin = (typeof vpnKeyOrigin.enumValues)[number];
