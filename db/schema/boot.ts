import { sql } from "drizzle-orm";
import { bigint, index, integer, jsonb, pgEnum, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { images } from "./images";
import { hosts, leases, projects } from "./inventory";
import { users } from "./users";

export const templateKind = pgEnum("template_kind", ["system", "unattended"]);
export const templateFormat = pgEnum("template_format", ["ipxe", "preseed", "kickstart", "cloud-init", "script"]);
export const templateVisibility = pgEnum("template_visibility", ["private", "project", "public"]);

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

// commission: the deploy ramdisk reports the hardware (facts, docs/commissioning.md) and the machine goes off.
export const deploymentAction = pgEnum("deployment_action", ["install", "deploy_image", "capture_disk", "wipe_disk", "commission"]);
export const deploymentState = pgEnum("deployment_state", ["pending", "running", "done", "failed", "cancelled"]);
// system: Kiln's own run outside any lease (commissioning on discovery, or an admin's "Commission").
export const deploymentOrigin = pgEnum("deployment_origin", ["holder", "release", "system"]);

export type DeploymentOptions = {
  disk?: string;
  wipeFirst?: boolean;
  /** wipe_disk: quick (signatures, partition tables, both ends) or full (every byte zeroed). */
  wipeMode?: "quick" | "full";
  /** False for a mark: the holder reboots the machine by hand. */
  power?: boolean;
  /** Mail the holder when the run ends. */
  notify?: boolean;
  /** capture_disk: the image that gets the captured disk as its next version. */
  captureImageId?: string;
  /** install, deploy_image: the git repository the installed system runs on first boot (boot/post-install.ts). */
  postInstall?: PostInstallOption;
  /** deploy_image: boot the version diskless from a copy-on-write root over NBD (docs/diskless.md) instead of writing the disk. */
  diskless?: boolean;
};

// One action over several hosts of a lease ("deploy many at once", lib/deployments/groups.ts):
// a run per host, each with group_id. A host's failed run is retried for that host alone, up to
// max_attempts runs in all; the group never restarts as a whole.
export const deploymentGroups = pgTable(
  "deployment_groups",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    leaseId: uuid("lease_id").references(() => leases.id, { onDelete: "set null" }),
    // The reservation that asked for it ("ready at the start"); no FK: reservations.ts comes after.
    reservationId: uuid("reservation_id"),
    userId: uuid("user_id").references(() => users.id, { onDelete: "set null" }),
    // The run start it repeats on each host (lib/validation/deployments.ts deploymentStartSchema), pinned.
    spec: jsonb("spec").$type<Record<string, unknown>>().notNull(),
    hostIds: uuid("host_ids").array().notNull(),
    maxAttempts: integer("max_attempts").notNull().default(2),
    // The run record this group re-runs, if any (lib/deployments/records.ts).
    rerunOfRecordId: uuid("rerun_of_record_id"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("deployment_groups_lease_idx").on(t.leaseId)],
);

// One provisioning run of a host: its action, pinned template and image versions, vars,
// one-time token and outcome. Steps, log lines and the live feed are in deployments.ts.
export const deployments = pgTable(
  "deployments",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    hostId: uuid("host_id")
      .notNull()
      .references(() => hosts.id, { onDelete: "cascade" }),
    leaseId: uuid("lease_id").references(() => leases.id, { onDelete: "set null" }),
    userId: uuid("user_id").references(() => users.id, { onDelete: "set null" }),
    action: deploymentAction("action").notNull(),
    state: deploymentState("state").notNull().default("pending"),
    systemTemplateId: uuid("system_template_id").references(() => templates.id, { onDelete: "set null" }),
    systemTemplateVersion: integer("system_template_version"),
    unattendedTemplateId: uuid("unattended_template_id").references(() => templates.id, { onDelete: "set null" }),
    unattendedTemplateVersion: integer("unattended_template_version"),
    vars: jsonb("vars").$type<Record<string, unknown>>().notNull().default({}),
    // The image version a deploy_image run writes (filled by the deploy action). While the
    // run is pending or running, that version cannot be deleted and the run's one-time
    // token may download its blob.
    imageId: uuid("image_id").references(() => images.id, { onDelete: "set null" }),
    imageVersion: integer("image_version"),
    // sha256 of the one-time token that the per-deployment boot files require.
    tokenHash: text("token_hash").notNull(),
    tokenExpiresAt: timestamp("token_expires_at", { withTimezone: true }).notNull(),
    bootCount: integer("boot_count").notNull().default(0),
    failureReason: text("failure_reason"),
    // Who asked: the holder (or an admin for them), or the end of a lease (the wipe before
    // the host goes back to its pool).
    origin: deploymentOrigin("origin").notNull().default("holder"),
    // Options the agent gets (disk, wipeFirst) beside the vars templates see.
    options: jsonb("options").$type<DeploymentOptions>().notNull().default({}),
    // The run this one repeats (the holder's "retry").
    retryOfId: uuid("retry_of_id"),
    // The group this run belongs to ("deploy many at once"), if any.
    groupId: uuid("group_id").references(() => deploymentGroups.id, { onDelete: "set null" }),
    // The run's system script and unattended file, rendered once when the run was created (or,
    // for a run from before, at its first boot) and served as stored from then on: a pending run
    // is answered without rendering a person's template on each unauthenticated boot request.
    // The one-time token is never stored: the text holds tokenPlaceholder (random, per run)
    // where the token goes, and the boot route puts the token in as it answers.
    renderedSystem: text("rendered_system"),
    renderedUnattended: text("rendered_unattended"),
    tokenPlaceholder: text("token_placeholder"),
    // Progress of the step that moves data (write, wipe, capture), as the agent last reported it.
    bytesWritten: bigint("bytes_written", { mode: "number" }).notNull().default(0),
    totalBytes: bigint("total_bytes", { mode: "number" }),
    rateBytesPerSecond: bigint("rate_bytes_per_second", { mode: "number" }),
    progressAt: timestamp("progress_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp("started_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    // A deploy that failed or was cancelled mid-write makes Kiln answer the machine's network
    // boot with a halt (lib/deployments/next-boot.ts) until a new run, or until the holder or an
    // administrator chooses to boot the disk anyway: then this is set.
    diskBootAllowedAt: timestamp("disk_boot_allowed_at", { withTimezone: true }),
    // A run with a first_boot step (an image deploy with cloud-init, an install with post-install):
    // set when the agent or installer reported its disk done, while the run goes on waiting for
    // the installed system's "done". From then its network boot answers "boot the disk". The same
    // fact as first_boot having started, but a step change of an active run is not announced
    // (0012): only a change of the run's row wakes the boot servers' NOTIFY trigger, so they drop
    // their remembered answer (the run's script) instead of booting the ramdisk again.
    diskWrittenAt: timestamp("disk_written_at", { withTimezone: true }),
  },
  (t) => [
    index("deployments_host_idx").on(t.hostId, t.createdAt),
    // At most one unfinished run per host: the network-boot mark.
    uniqueIndex("deployments_one_active_key").on(t.hostId).where(sql`${t.state} in ('pending', 'running')`),
    uniqueIndex("deployments_token_key").on(t.tokenHash),
    index("deployments_group_idx").on(t.groupId).where(sql`${t.groupId} is not null`),
    index("deployments_image_idx").on(t.imageId, t.imageVersion).where(sql`${t.imageId} is not null`),
  ],
);

// Per-host variables an admin sets (disk names, console…); lease vars override them.
export const hostVars = pgTable("host_vars", {
  hostId: uuid("host_id")
    .primaryKey()
    .references(() => hosts.id, { onDelete: "cascade" }),
  vars: jsonb("vars").$type<Record<string, unknown>>().notNull().default({}),
});

export type TemplateRow = typeof templates.$inferSelect;
export type TemplateVersionRow = typeof templateVersions.$inferSelect;
export type DeploymentRow = typeof deployments.$inferSelect;
export type HostBootSettingsRow = typeof hostBootSettings.$inferSelect;
export type DeploymentGroupRow = typeof deploymentGroups.$inferSelect;
