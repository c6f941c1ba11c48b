import { sql } from "drizzle-orm";
import { bigserial, integer, jsonb, pgEnum, pgTable, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { deployments } from "./deployments";
import { hosts, type HostRow } from "./inventory";
import { HOST_FACT_SOURCES } from "./enums";

export const hostFactSource = pgEnum("host_fact_source", HOST_FACT_SOURCES);

/** What one inventory said about a host, whole: the hosts columns that hold the newest, as they were then. */
export type HostFactSnapshot = Pick<HostRow, "cpuCores" | "memoryMb" | "disks" | "facts">;

// Every inventory a host's agent reported, numbered per host, so its page can say what changed
// since last time (a disk swapped, memory added). One row per run: an agent that reports again
// in the same run (the machine rebooted into it) replaces its run's row rather than adding one.
// No boot-answer trigger: facts never decide what a machine is answered.
export const hostFactVersions = pgTable(
  "host_fact_versions",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    hostId: uuid("host_id")
      .notNull()
      .references(() => hosts.id, { onDelete: "cascade" }),
    version: integer("version").notNull(),
    snapshot: jsonb("snapshot").$type<HostFactSnapshot>().notNull(),
    source: hostFactSource("source").notNull(),
    deploymentId: uuid("deployment_id").references(() => deployments.id, { onDelete: "set null" }),
    recordedAt: timestamp("recorded_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("host_fact_versions_host_version_key").on(t.hostId, t.version),
    uniqueIndex("host_fact_versions_deployment_key").on(t.deploymentId).where(sql`${t.deploymentId} is not null`),
  ],
);

export type HostFactVersionRow = typeof hostFactVersions.$inferSelect;
export type HostFactSource = (typeof hostFactSource.enumValues)[number];
