import { sql } from "drizzle-orm";
import { index, pgEnum, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { AUTH_SOURCES, USER_ROLES } from "./enums";

export const userRole = pgEnum("user_role", USER_ROLES);
export const authSource = pgEnum("auth_source", AUTH_SOURCES);

export const users = pgTable(
  "users",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    // Stored lower-cased; uniqueness is on this column.
    email: text("email").notNull(),
    name: text("name").notNull().default(""),
    // Null for LDAP accounts: their password lives in the directory.
    passwordHash: text("password_hash"),
    // The same password hashed as the lab's directory expects ({CRYPT}$6$…, lib/directory), kept
    // only when Kiln writes directory entries: Kiln's own argon2 hash cannot be turned into it.
    directoryPasswordHash: text("directory_password_hash"),
    role: userRole("role").notNull().default("user"),
    authSource: authSource("auth_source").notNull().default("local"),
    ldapUsername: text("ldap_username"),
    emailVerifiedAt: timestamp("email_verified_at", { withTimezone: true }),
    // Null while an admin has not approved the account (approval mode only).
    approvedAt: timestamp("approved_at", { withTimezone: true }),
    disabledAt: timestamp("disabled_at", { withTimezone: true }),
    // Set when an admin deleted an account whose leases or reservations must keep naming it:
    // the row stays as a tombstone (personal data scrubbed, disabled, email a placeholder).
    deletedAt: timestamp("deleted_at", { withTimezone: true }),
    lastSignInAt: timestamp("last_sign_in_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("users_email_key").on(t.email),
    uniqueIndex("users_ldap_username_key").on(t.ldapUsername).where(sql`${t.ldapUsername} is not null`),
    index("users_created_at_idx").on(t.createdAt),
  ],
);

export const sshKeys = pgTable(
  "ssh_keys",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    type: text("type").notNull(),
    publicKey: text("public_key").notNull(),
    comment: text("comment").notNull().default(""),
    fingerprint: text("fingerprint").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("ssh_keys_user_fingerprint_key").on(t.userId, t.fingerprint)],
);

/** What history (leases, reservations, the audit log's actor) shows for a deleted account (users.deleted_at). */
export const DELETED_USER_LABEL = "Deleted user";

export type UserRow = typeof users.$inferSelect;
export type SshKeyRow = typeof sshKeys.$inferSelect;
