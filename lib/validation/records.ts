// Contracts of run records (the experiment record of issue 16): the list query, the diff
// query, a re-run's body, and the answers (lib/deployments/records.ts builds them).
import { z } from "zod";
import { TEMPLATE_KINDS } from "@/db/schema/enums";
import { paginatedResponseSchema, paginationSchema, recordSchema, RUN_STATES, timestampSchema, uuidSchema } from "./common";

export const recordListQuerySchema = paginationSchema.extend({
  hostId: uuidSchema.optional(),
  projectId: uuidSchema.optional(),
});

export const recordGetQuerySchema = z.object({
  /** 1: answer the JSON as a file to save (Content-Disposition: attachment). */
  download: z.enum(["0", "1", "true", "false"]).optional(),
});

export const recordDiffQuerySchema = z.object({
  /** The host a re-run would deploy to; left out: only the image and templates are compared. */
  hostId: uuidSchema.optional(),
});

export const recordRerunSchema = z.object({
  hostIds: z.array(uuidSchema).min(1, "Choose at least one host.").max(64, "Re-run on at most 64 hosts at once."),
});
export type RecordRerun = z.infer<typeof recordRerunSchema>;

const outcomeSchema = z
  .object({
    state: z.enum(RUN_STATES),
    finishedAt: z.string().nullable(),
    failureReason: z.string().nullable(),
    durationSeconds: z.number().nullable(),
  })
  .nullable();

export const recordViewSchema = z.object({
  id: z.string(),
  url: z.string().describe("The permanent URL of the record's page (for a DOI to point at)."),
  recordSha256: z.string().describe("sha256 (hex) of the record's canonical JSON: keys sorted at every level, no whitespace."),
  record: recordSchema.describe("What ran, frozen when the run was created (schemaVersion 1)."),
  outcome: outcomeSchema,
  publishedAt: timestampSchema.nullable(),
  createdAt: timestampSchema,
  deploymentId: z.string().nullable(),
  rerunOf: z.string().nullable().describe("The record this run re-ran, if it was started by a re-run."),
  reruns: z.array(z.string()).describe("Records of the runs started by re-running this one."),
  canPublish: z.boolean(),
});

export const recordSummarySchema = z.object({
  id: z.string(),
  url: z.string(),
  action: z.string(),
  hostId: z.string().nullable(),
  hostName: z.string().nullable(),
  projectId: z.string().nullable(),
  image: z.object({ name: z.string(), version: z.number() }).nullable(),
  recordSha256: z.string(),
  outcome: outcomeSchema,
  publishedAt: timestampSchema.nullable(),
  createdAt: timestampSchema,
});
export const recordListResponseSchema = paginatedResponseSchema(recordSummarySchema);

const factChangeSchema = z.object({ kind: z.enum(["added", "removed", "changed"]), what: z.string(), before: z.string().nullable(), after: z.string().nullable() });

export const recordDiffSchema = z.object({
  recordId: z.string(),
  host: z.object({ id: z.string(), name: z.string() }).nullable(),
  image: z
    .object({
      id: z.string(),
      name: z.string(),
      pinnedVersion: z.number(),
      pinnedAvailable: z.boolean(),
      latestVersion: z.number().nullable(),
      newerExists: z.boolean(),
      usable: z.boolean(),
    })
    .nullable(),
  templates: z.array(
    z.object({
      role: z.enum(TEMPLATE_KINDS),
      id: z.string(),
      name: z.string(),
      pinnedVersion: z.number(),
      latestVersion: z.number().nullable(),
      newerExists: z.boolean(),
      pinnedAvailable: z.boolean(),
      /** Built-in templates are Kiln's own: a re-run of an image deploy boots their current version. */
      builtin: z.boolean(),
    }),
  ),
  facts: z.object({ recordedVersion: z.number().nullable(), currentVersion: z.number().nullable(), changes: z.array(factChangeSchema) }).nullable(),
  kiln: z.object({ recorded: z.string(), current: z.string() }),
  /** The differences in sentences, for a person; empty when a re-run would repeat the record exactly. */
  summary: z.array(z.string()),
});

export const recordRerunResponseSchema = z.object({
  groupId: z.string(),
  deploymentIds: z.array(z.string()),
  /** Hosts that could not start (busy, released), each with why; the others started. */
  refused: z.array(z.object({ hostId: z.string(), name: z.string(), reason: z.string() })),
});
