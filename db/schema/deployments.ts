import { bigserial, index, integer, jsonb, pgEnum, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { sql } from "drizzle-orm";
import { deployments } from "./boot";
import { hosts } from "./inventory";

export const deploymentStepState = pgEnum("deployment_step_state", ["pending", "running", "done", "failed", "skipped", "cancelled"]);

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

export type RunRecordRow = typeof runRecords.$inferSelect;
export type DeploymentStepRow = typeof deploymentSteps.$inferSelect;
export type DeploymentStepState = (typeof deploymentStepState.enumValues)[number];
export type DeploymentLogRow = typeof deploymentLogs.$inferSelect;
export type DeploymentConsoleRow = typeof deploymentConsoles.$inferSelect;
export type DeploymentEventRow = typeof deploymentEvents.$inferSelect;
