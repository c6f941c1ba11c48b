import { bigint, index, integer, jsonb, pgEnum, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { hostArch, projects } from "./inventory";
import { users } from "./users";
import { IMAGE_FORMATS, IMAGE_VERSION_STATES, IMAGE_VISIBILITIES } from "./enums";

export const imageVisibility = pgEnum("image_visibility", IMAGE_VISIBILITIES);
export const imageVersionState = pgEnum("image_version_state", IMAGE_VERSION_STATES);
export const imageFormat = pgEnum("image_format", IMAGE_FORMATS);

export const images = pgTable(
  "images",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    ownerUserId: uuid("owner_user_id").references(() => users.id, { onDelete: "set null" }),
    projectId: uuid("project_id").references(() => projects.id, { onDelete: "set null" }),
    visibility: imageVisibility("visibility").notNull().default("private"),
    // The newest READY version (what `latest` resolves to); null until one is ready.
    latestVersion: integer("latest_version"),
    // Last version number handed out. Numbers are never reused, so "image X version 3" in a
    // deployment's record always names the same bytes, even after version 3 is deleted.
    versionCounter: integer("version_counter").notNull().default(0),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("images_owner_idx").on(t.ownerUserId), index("images_project_idx").on(t.projectId)],
);

export const imageVersions = pgTable(
  "image_versions",
  {
    imageId: uuid("image_id")
      .notNull()
      .references(() => images.id, { onDelete: "cascade" }),
    version: integer("version").notNull(),
    state: imageVersionState("state").notNull().default("uploading"),
    // Bytes as stored and delivered (after a qcow2 → raw conversion, the raw size).
    sizeBytes: bigint("size_bytes", { mode: "number" }).notNull(),
    // sha256 (hex) of the delivered bytes; null until verified.
    sha256: text("sha256"),
    format: imageFormat("format"),
    // What was uploaded, when the server converted it (qcow2 → raw); else equal to the above.
    sourceFormat: imageFormat("source_format"),
    sourceSha256: text("source_sha256"),
    sourceSizeBytes: bigint("source_size_bytes", { mode: "number" }),
    // The client's sha256 of what it sent (Upload-Metadata `sha256`), compared after upload.
    expectedSha256: text("expected_sha256"),
    filename: text("filename").notNull().default(""),
    // Which machines it runs on (hosts.arch): a deploy, install or diskless boot of it on a host
    // of another architecture is refused (lib/hosts/arch.ts).
    arch: hostArch("arch").notNull().default("x86_64"),
    notes: text("notes").notNull().default(""),
    failureReason: text("failure_reason"),
    // Where the bytes are, relative to the storage root (local directory or bucket): always
    // derived from ids by the server, never from anything a client sent.
    storageKey: text("storage_key"),
    uploadedByUserId: uuid("uploaded_by_user_id").references(() => users.id, { onDelete: "set null" }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    readyAt: timestamp("ready_at", { withTimezone: true }),
    // When the stored bytes were last hashed and matched sha256 (the scrub, a re-check after a
    // deploy failed its checksum); null means only at readyAt. The scrub takes the oldest first.
    verifiedAt: timestamp("verified_at", { withTimezone: true }),
    // Which ranges of the logical (decompressed) image hold data, recorded at verification
    // (lib/images/block-map.ts); null for versions verified before maps existed, whose deploys
    // write every byte.
    blockMap: jsonb("block_map").$type<ImageBlockMap>(),
  },
  (t) => [primaryKey({ columns: [t.imageId, t.version] }), index("image_versions_uploader_idx").on(t.uploadedByUserId)],
);

/**
 * The block map of an image version, as bmaptool keeps one: the ranges of the logical image
 * (after decompression) that hold data, each with the sha256 of its bytes; everything outside
 * them is zero. `imageSha256` is the version's sha256 the map was computed from; `mappedSha256`
 * is the sha256 of all mapped bytes in order (what the deploy agent checks in one pass).
 */
export type ImageBlockMap = {
  v: 1;
  imageSha256: string;
  imageSizeBytes: number;
  mappedBytes: number;
  mappedSha256: string;
  ranges: { start: number; length: number; sha256: string }[];
};

export type ImageRow = typeof images.$inferSelect;
export type ImageVersionRow = typeof imageVersions.$inferSelect;
export type ImageFormat = (typeof imageFormat.enumValues)[number];
export type ImageVersionState = (typeof imageVersionState.enumValues)[number];
