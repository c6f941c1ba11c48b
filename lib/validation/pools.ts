// Contracts for pools and their matches (how many free hosts a lease with these criteria
// could take): used by route handlers, forms, the OpenAPI document and tests alike.
import { z } from "zod";
import { nameSchema, paginatedResponseSchema, tagSchema, timestampSchema } from "./common";
import { hardwareFilterShape } from "./inventory";
import { endGraceMinutesSchema } from "./lease-end";

export const poolCreateSchema = z
  .object({
    name: nameSchema,
    description: z.string().max(2000).default(""),
    defaultLeaseHours: z.number().int().min(1).max(24 * 365).default(24),
    maxLeaseHours: z.number().int().min(1).max(24 * 365).default(168),
    endGraceMinutes: endGraceMinutesSchema.default(0).describe("Minutes a lease stays active after its end so its holder can capture the disk before the wipe (0: none)."),
  })
  .refine((p) => p.defaultLeaseHours <= p.maxLeaseHours, { path: ["defaultLeaseHours"], message: "The default duration cannot exceed the maximum." });

export const poolUpdateSchema = z.object({
  name: nameSchema.optional(),
  description: z.string().max(2000).optional(),
  defaultLeaseHours: z.number().int().min(1).max(24 * 365).optional(),
  maxLeaseHours: z.number().int().min(1).max(24 * 365).optional(),
  endGraceMinutes: endGraceMinutesSchema.optional(),
});

/** `GET /pools/{id}/matches`: how many free hosts of a pool a lease with these filters could take. */
export const poolMatchQuerySchema = z.object({
  // A string in a query; lib/ parses the route's parsed object again, where it is the array.
  tags: z
    .union([z.string().max(1000), z.array(z.string())])
    .optional()
    .transform((s) => (Array.isArray(s) ? s : (s ?? "").split(/[\s,]+/).filter(Boolean)))
    .pipe(z.array(tagSchema).max(20))
    .describe("Comma-separated tags, all of which must be present."),
  ...hardwareFilterShape(() => z.coerce.number()),
});

// Responses (see ./common.ts).
const poolFields = { id: z.string(), name: z.string(), description: z.string(), defaultLeaseHours: z.number(), maxLeaseHours: z.number(), endGraceMinutes: z.number().int(), createdAt: timestampSchema, updatedAt: timestampSchema };
export const poolViewSchema = z.object(poolFields);
export const poolWithCountSchema = z.object({ ...poolFields, hostCount: z.number().int() });
export const poolMatchResponseSchema = z.object({
  poolId: z.string(),
  poolName: z.string(),
  free: z.number().int().describe("Hosts of the pool available now."),
  matching: z.number().int().describe("Free hosts that meet every criterion asked."),
  withoutFacts: z.number().int().describe("Free hosts with no hardware facts yet (never commissioned): they match no hardware criterion."),
  criteria: z.array(z.object({ criterion: z.string(), label: z.string(), matching: z.number().int() })).describe("Each criterion asked, with how many free hosts meet it on its own."),
});
export const poolListResponseSchema = paginatedResponseSchema(z.object({ ...poolFields, hostCount: z.number().int(), availableCount: z.number().int() }));
