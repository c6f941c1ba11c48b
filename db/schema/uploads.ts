import { sql } from "drizzle-orm";
import { bigint, foreignKey, index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { deployments } from "./deployments";
import { imageVersions } from "./images";
import { users } from "./users";

// One row per tus upload while its bytes are arriving (and until verification takes them
// over). It is what quotas count for unfinished uploads and what the expiry job sweeps.
export const imageUploads = pgTable(
  "image_uploads",
  {
    // The tus upload id: random hex chosen by the server, also the file name in the store.
    id: text("id").primaryKey(),
    imageId: uuid("image_id").notNull(),
    version: integer("version").notNull(),
    userId: uuid("user_id").references(() => users.id, { onDelete: "set null" }),
    projectId: uuid("project_id"),
    // 0 until known for a capture (tus Upload-Defer-Length): set when the last byte is in.
    lengthBytes: bigint("length_bytes", { mode: "number" }).notNull(),
    // Set for a disk capture: only that run's agent (its one-time token) may write the upload.
    deploymentId: uuid("deployment_id").references(() => deployments.id, { onDelete: "set null" }),
    completedAt: timestamp("completed_at", { withTimezone: true }),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    foreignKey({ columns: [t.imageId, t.version], foreignColumns: [imageVersions.imageId, imageVersions.version], name: "image_uploads_version_fk" }).onDelete("cascade"),
    uniqueIndex("image_uploads_version_key").on(t.imageId, t.version),
    index("image_uploads_user_idx").on(t.userId),
    index("image_uploads_open_expiry_idx").on(t.expiresAt).where(sql`${t.completedAt} is null`),
  ],
);

export type ImageUploadRow = typeof imageUploads.$inferSelect;
