// Contracts for images, their versions and uploads: shared by the /api/v1 handlers, the tus
// upload hooks, the worker job payloads, the OpenAPI document and the browser upload form.
import { z } from "zod";
import { DEPLOYMENT_STATES, HOST_ARCHES, IMAGE_FORMATS, IMAGE_VERSION_STATES, IMAGE_VISIBILITIES } from "@/db/schema/enums";
import { INT32_MAX, paginatedResponseSchema, paginationSchema, positiveInt32Schema, timestampSchema, uuidSchema } from "./common";


/** The tus endpoint (creation: POST here; each upload then lives at `${UPLOAD_PATH}/<id>`). */
export const UPLOAD_PATH = "/api/uploads";

/** What a tus upload id looks like (random hex chosen by the server; also its file name). */
export function isUploadId(value: string): boolean {
  return /^[0-9a-f]{16,64}$/.test(value);
}

/**
 * Chunk size for the browser's tus client. Each chunk is one PATCH request, and measured here
 * (bench/images.ts, docs/images.md) one request costs 15–40 ms on top of its bytes (Next's
 * routing, the token or session lookup, the upload lookup, tus's lock and store open). 128 MiB
 * keeps that to a few percent at loopback speed and below 1% over a real network, while staying
 * under the body limits proxies are commonly given. Chunks do not bound what a dropped
 * connection loses: the server keeps every byte of an interrupted PATCH and the client resumes
 * from the server's offset. Scripts may send the whole file in one PATCH (curl -T).
 */
export const UPLOAD_CHUNK_BYTES = 128 * 1024 * 1024;

export const sha256Schema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[0-9a-f]{64}$/, "A sha256 is 64 hexadecimal digits.");

const imageName = z
  .string()
  .trim()
  .min(1, "Give the image a name.")
  .max(100, "Use at most 100 characters.")
  .regex(/^[^\u0000-\u001f/\\]+$/, "Image names cannot contain slashes or control characters.");

export const imageCreateSchema = z
  .object({
    name: imageName,
    description: z.string().max(2000).default(""),
    visibility: z.enum(IMAGE_VISIBILITIES).default("private"),
    projectId: uuidSchema.nullable().optional(),
  })
  .refine((i) => i.visibility !== "project" || i.projectId, { path: ["projectId"], message: "Choose the project to share the image with." });
export type ImageCreate = z.infer<typeof imageCreateSchema>;

export const imageUpdateSchema = z.object({
  name: imageName.optional(),
  description: z.string().max(2000).optional(),
  visibility: z.enum(IMAGE_VISIBILITIES).optional(),
  projectId: uuidSchema.nullable().optional(),
});
export type ImageUpdate = z.infer<typeof imageUpdateSchema>;

export const imageListQuerySchema = paginationSchema.extend({
  q: z.string().trim().max(100).optional(),
});

export const imageVersionUpdateSchema = z
  .object({
    notes: z.string().max(2000).optional(),
    arch: z.enum(HOST_ARCHES).optional().describe("x86_64 or arm64: the machines it runs on (a deploy to a host of another architecture is refused)."),
  })
  .refine((d) => d.notes !== undefined || d.arch !== undefined, "Send notes, arch or both.");

/** A version in a path: a number, or `latest` (the newest ready version). */
export const versionParamSchema = z.union([z.literal("latest"), z.coerce.number().int().min(1).max(INT32_MAX)]);
export type VersionRef = z.infer<typeof versionParamSchema>;

/**
 * A file name as the uploader's machine called it: recorded for people, never used as a
 * path (the store names files by upload id). Anything path-like is refused all the same,
 * so a script that tries to steer the storage location hears about it.
 */
export const uploadFilenameSchema = z
  .string()
  .min(1, "filename is empty.")
  .max(255, "filename is at most 255 characters.")
  .refine((s) => !/[\u0000-\u001f]/.test(s), "filename cannot contain control characters.")
  .refine((s) => !s.startsWith("/") && !s.startsWith("\\") && !/^[A-Za-z]:/.test(s) && !s.startsWith("~"), "filename must not be an absolute path.")
  .refine((s) => !s.split(/[\\/]/).includes(".."), "filename must not contain `..`.")
  .refine((s) => !/[\\/]/.test(s), "filename must be a bare file name, without directories.");

/** Upload-Metadata of a tus creation request (keys as the client sends them). */
export const uploadMetadataSchema = z
  .object({
    imageId: uuidSchema,
    filename: uploadFilenameSchema,
    notes: z.string().max(2000, "notes are at most 2000 characters.").optional(),
    sha256: sha256Schema.optional(),
    // x86_64 (the default) or arm64: the machines this version runs on.
    arch: z.enum(HOST_ARCHES, { message: "arch is x86_64 or arm64." }).optional(),
    // tus-js-client sends these on its own; accepted and ignored.
    filetype: z.string().max(255).optional(),
    name: z.string().max(255).optional(),
    type: z.string().max(255).optional(),
  })
  .strict();
export type UploadMetadata = z.infer<typeof uploadMetadataSchema>;

export const verifyImageVersionPayloadSchema = z.object({ imageId: uuidSchema, version: positiveInt32Schema }).strict();

// Responses (see ./common.ts).
const imageFormat = z.enum(IMAGE_FORMATS).nullable();
const imageFields = {
  id: z.string(),
  name: z.string(),
  description: z.string(),
  ownerUserId: z.string().nullable(),
  ownerEmail: z.string().nullable(),
  projectId: z.string().nullable(),
  projectName: z.string().nullable(),
  visibility: z.enum(IMAGE_VISIBILITIES),
  latestVersion: z.number().int().nullable().describe("The newest ready version (what `latest` means)."),
  latestSizeBytes: z.number().nullable(),
  latestFormat: imageFormat,
  versionCount: z.number().int(),
  totalBytes: z.number(),
  canEdit: z.boolean(),
  createdAt: timestampSchema,
  updatedAt: timestampSchema,
};
export const imageViewSchema = z.object(imageFields);
export const imageListResponseSchema = paginatedResponseSchema(imageViewSchema);

export const imageVersionViewSchema = z.object({
  imageId: z.string(),
  version: z.number().int(),
  state: z.enum(IMAGE_VERSION_STATES),
  sizeBytes: z.number(),
  sha256: z.string().nullable(),
  format: imageFormat,
  sourceFormat: imageFormat,
  sourceSha256: z.string().nullable(),
  sourceSizeBytes: z.number().nullable(),
  expectedSha256: z.string().nullable(),
  filename: z.string(),
  notes: z.string(),
  arch: z.enum(HOST_ARCHES).describe("The machines it runs on (hosts.arch)."),
  failureReason: z.string().nullable(),
  warnings: z.array(z.string()).describe("What to know before deploying it, e.g. that Kiln did not recognise the bytes as a disk image."),
  uploadedByUserId: z.string().nullable(),
  uploaderEmail: z.string().nullable(),
  createdAt: timestampSchema,
  readyAt: timestampSchema.nullable(),
  blobUrl: z.string().nullable().describe("Where the bytes are downloaded, once ready."),
  uploadUrl: z.string().nullable(),
});
export const imageVersionListResponseSchema = paginatedResponseSchema(imageVersionViewSchema);
export const imageDetailSchema = imageViewSchema.extend({ versions: z.array(imageVersionViewSchema) });
export const imageVersionDetailSchema = imageVersionViewSchema.extend({
  imageName: z.string(),
  usedBy: z.array(
    z.object({ id: z.string(), hostId: z.string(), hostName: z.string(), state: z.enum(DEPLOYMENT_STATES), userEmail: z.string().nullable(), createdAt: timestampSchema, finishedAt: timestampSchema.nullable() }),
  ),
});
export const imageVersionDeleteResponseSchema = z.object({ ok: z.literal(true), version: z.number().int() });
