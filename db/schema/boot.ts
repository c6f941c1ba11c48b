import { sql } from "drizzle-orm";
import { index, integer, jsonb, pgEnum, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { hosts, leases, projects } from "./inventory";
import { users } from "./users";
import { TEMPLATE_FORMATS, TEMPLATE_KINDS, TEMPLATE_VISIBILITIES } from "./enums";

export const templateKind = pgEnum("template_kind", TEMPLATE_KINDS);
export const templateFormat = pgEnum("template_format", TEMPLATE_FORMATS);
export const templateVisibility = pgEnum("template_visibility", TEMPLATE_VISIBILITIES);

export type TemplateVariable = { name: string; description?: string; default?: string };
/** A git repository the installed system runs on first boot (boot/post-install.ts). */
export type PostInstallOption = { gitUrl: string; ref: string; path: string; kind: "script" | "ansible-playbook" };

export const templates = pgTable(
  "templates",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    // Stable key of a built-in ("debian-12-netinstall"); null for user templates.
    builtinKey: text("builtin_key"),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    kind: templateKind("kind").notNull(),
    format: templateFormat("format").notNull(),
    ownerUserId: uuid("owner_user_id").references(() => users.id, { onDelete: "set null" }),
    projectId: uuid("project_id").references(() => projects.id, { onDelete: "set null" }),
    visibility: templateVisibility("visibility").notNull().default("private"),
    latestVersion: integer("latest_version").notNull().default(1),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("templates_builtin_key").on(t.builtinKey).where(sql`${t.builtinKey} is not null`),
    index("templates_owner_idx").on(t.ownerUserId),
  ],
);

// Every save is a new row; versions are never edited, so a deployment's record of
// "template X version 3" always means the same text.
export const templateVersions = pgTable(
  "template_versions",
  {
    templateId: uuid("template_id")
      .notNull()
      .references(() => templates.id, { onDelete: "cascade" }),
    version: integer("version").notNull(),
    source: text("source").notNull(),
    variables: jsonb("variables").$type<TemplateVariable[]>().notNull().default([]),
    // An unattended template's default post-install repository (docs/post-install.md): a run
    // with this version gets it unless the request names another or null. Versioned with the
    // source, so a run's record of "template X v3" also says which repository it ran.
    postInstall: jsonb("post_install").$type<PostInstallOption>(),
    message: text("message").notNull().default(""),
    createdByUserId: uuid("created_by_user_id").references(() => users.id, { onDelete: "set null" }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.templateId, t.version] })],
);

// What the lease holder chose for the next network boot of a host. Tied to the lease:
// a new holder starts from nothing.
export const hostBootSettings = pgTable("host_boot_settings", {
  hostId: uuid("host_id")
    .primaryKey()
    .references(() => hosts.id, { onDelete: "cascade" }),
  leaseId: uuid("lease_id")
    .notNull()
    .references(() => leases.id, { onDelete: "cascade" }),
  systemTemplateId: uuid("system_template_id").references(() => templates.id, { onDelete: "set null" }),
  unattendedTemplateId: uuid("unattended_template_id").references(() => templates.id, { onDelete: "set null" }),
  vars: jsonb("vars").$type<Record<string, unknown>>().notNull().default({}),
  preferredMac: text("preferred_mac"),
  updatedByUserId: uuid("updated_by_user_id").references(() => users.id, { onDelete: "set null" }),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

// Per-host variables an admin sets (disk names, console…); lease vars override them.
export const hostVars = pgTable("host_vars", {
  hostId: uuid("host_id")
    .primaryKey()
    .references(() => hosts.id, { onDelete: "cascade" }),
  vars: jsonb("vars").$type<Record<string, unknown>>().notNull().default({}),
});

export type TemplateRow = typeof templates.$inferSelect;
export type TemplateVersionRow = typeof templateVersions.$inferSelect;
export type HostBootSettingsRow = typeof hostBootSettings.$inferSelect;
