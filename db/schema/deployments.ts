import { sql } from "drizzle-orm";
import { bigint, bigserial, index, integer, jsonb, pgEnum, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { type PostInstallOption, templates } from "./boot";
import { images } from "./images";
import { hosts, leases } from "./inventory";
import { users } from "./users";
import { DEPLOYMENT_ACTIONS, DEPLOYMENT_ORIGINS, DEPLOYMENT_STATES, DEPLOYMENT_STEP_STATES } from "./enums";

export const deploymentAction = pgEnum("deployment_action", DEPLOYMENT_ACTIONS);
export const deploymentState = pgEnum("deployment_state", DEPLOYMENT_STATES);
export const deploymentOrigin = pgEnum("deployment_origin", DEPLOYMENT_ORIGINS);

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
// one-time token and outcome. Its steps, log lines and live feed follow below.
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


export const deploymentStepState = pgEnum("deployment_step_state", DEPLOYMENT_STEP_STATES);

// The steps of one run, in order. A step is driven either by the worker (power) or by the
// machine's reports (boot request, agent fetch, progress, done); each has its own deadline,
// so a silent machine fails with the reason of the step it stopped at.
export const deploymentSteps = pgTable(
  "deployment_steps",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    deploymentId: uuid("deployment_id")
      .notNull()
      .references(() => deployments.id, { onDelete: "cascade" }),
    position: integer("position").notNull(),
    name: text("name").notNull(),
    state: deploymentStepState("state").notNull().default("pending"),
    // Null: waits as long as the deployment's token lives (a mark waits for someone to reboot).
    timeoutSeconds: integer("timeout_seconds"),
    attempts: integer("attempts").notNull().default(0),
    startedAt: timestamp("started_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    // Moved forward by every progress report, so the deadline of a long write is "no news for N minutes".
    timeoutAt: timestamp("timeout_at", { withTimezone: true }),
    message: text("message"),
    failureReason: text("failure_reason"),
  },
  (t) => [
    uniqueIndex("deployment_steps_position_key").on(t.deploymentId, t.position),
    index("deployment_steps_due_idx").on(t.timeoutAt).where(sql`${t.state} = 'running'`),
  ],
);

// Log lines of a run: Kiln's own (power, steps), the power plugin's stderr, the agent's.
export const deploymentLogs = pgTable(
  "deployment_logs",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    deploymentId: uuid("deployment_id")
      .notNull()
      .references(() => deployments.id, { onDelete: "cascade" }),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
    source: text("source").notNull(),
    line: text("line").notNull(),
  },
  (t) => [index("deployment_logs_deployment_idx").on(t.deploymentId, t.id)],
);

// The last lines a run's machine printed on its serial console (QEMU socket, IPMI SOL),
// kept with the run so a failed run shows why with nobody attached. Its own row, not a
// column of deployments: the tail changes often and must not wake the boot servers.
export const deploymentConsoles = pgTable("deployment_consoles", {
  deploymentId: uuid("deployment_id")
    .primaryKey()
    .references(() => deployments.id, { onDelete: "cascade" }),
  text: text("text").notNull().default(""),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

// The change feed the live views follow: one row per change of a run, numbered in commit
// order per host (writers take a per-host lock before inserting), announced by NOTIFY. A
// reconnecting client resumes with "everything after id N" (SSE Last-Event-ID).
export const deploymentEvents = pgTable(
  "deployment_events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    hostId: uuid("host_id")
      .notNull()
      .references(() => hosts.id, { onDelete: "cascade" }),
    deploymentId: uuid("deployment_id")
      .notNull()
      .references(() => deployments.id, { onDelete: "cascade" }),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
    kind: text("kind").notNull(),
    data: jsonb("data").$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [index("deployment_events_host_idx").on(t.hostId, t.id)],
);

/**
 * What makes a run repeatable, frozen when the run is created (lib/deployments/records.ts): the
 * image version and its sha256, the template versions and the sha256 of what they rendered, the
 * vars, the kernel command line, and the machine's facts at that time.
 */
export type RunRecordData = Record<string, unknown>;

// The experiment record of a run, at a permanent URL (/records/<id>): kept when the run, its
// host or its lease is gone (no cascade), exportable as JSON. published_at: readable without
// signing in (for a paper's DOI to point at); before that, the project's members and admins.
export const runRecords = pgTable(
  "run_records",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    deploymentId: uuid("deployment_id").references(() => deployments.id, { onDelete: "set null" }),
    hostId: uuid("host_id").references(() => hosts.id, { onDelete: "set null" }),
    projectId: uuid("project_id"),
    userId: uuid("user_id"),
    record: jsonb("record").$type<RunRecordData>().notNull(),
    // sha256 of the record's canonical JSON, shown beside the permanent URL.
    recordSha256: text("record_sha256").notNull(),
    // The run's outcome, filled when it ends.
    outcome: jsonb("outcome").$type<Record<string, unknown>>(),
    publishedAt: timestamp("published_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("run_records_deployment_key").on(t.deploymentId).where(sql`${t.deploymentId} is not null`),
    index("run_records_project_idx").on(t.projectId, t.createdAt),
    index("run_records_host_idx").on(t.hostId, t.createdAt),
  ],
);

export type DeploymentRow = typeof deployments.$inferSelect;
export type DeploymentGroupRow = typeof deploymentGroups.$inferSelect;
export type RunRecordRow = typeof runRecords.$inferSelect;
export type DeploymentStepRow = typeof deploymentSteps.$inferSelect;
export type DeploymentStepState = (typeof deploymentStepState.enumValues)[number];
export type DeploymentLogRow = typeof deploymentLogs.$inferSelect;
export type DeploymentConsoleRow = typeof deploymentConsoles.$inferSelect;
export type DeploymentEventRow = typeof deploymentEvents.$inferSelect;
