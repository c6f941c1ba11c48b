// Contracts for leases: create, extend, hand over, list, and the lease as the API shows it.
// Used by route handlers, forms, the OpenAPI document and tests alike.
import { z } from "zod";
import { LEASE_STATES } from "@/db/schema/enums";
import { paginatedResponseSchema, paginationSchema, RUN_STATES, timestampSchema, uuidSchema } from "./common";
import { hostAccessSchema, hostRequestSchema } from "./inventory";
import { leaseEndViewSchema } from "./lease-end";

export const leaseCreateSchema = hostRequestSchema
  .extend({
    durationHours: z.number().positive("The duration must be positive.").max(24 * 365).optional(),
  })
  .refine((l) => Boolean(l.poolId) !== Boolean(l.hostIds), { message: "Ask either for a pool (poolId, count) or for given hosts (hostIds).", path: ["poolId"] });
export type LeaseCreate = z.infer<typeof leaseCreateSchema>;

export const leaseExtendSchema = z.object({
  hours: z.number().positive("Extend by a positive number of hours.").max(24 * 365),
});

export const leaseHandOverSchema = z.object({
  toUserId: uuidSchema.optional(),
  toEmail: z.string().trim().toLowerCase().max(254).optional(),
  // One host of the lease; all of them when absent.
  hostId: uuidSchema.optional(),
}).refine((h) => h.toUserId || h.toEmail, { message: "Name the new holder by toUserId or toEmail.", path: ["toEmail"] });

export const leaseListQuerySchema = paginationSchema.extend({
  scope: z.enum(["mine", "all"]).default("mine"),
  state: z.enum(LEASE_STATES).optional(),
  projectId: uuidSchema.optional(),
  userId: uuidSchema.optional(),
  hostId: uuidSchema.optional(),
});

// Responses (see ./common.ts).
const runSummarySchema = z.object({
  deploymentId: z.string(),
  state: z.enum(RUN_STATES),
  provisioning: z.string(),
  action: z.string(),
  step: z.string().nullable(),
  percent: z.number().nullable(),
  rate: z.number().nullable(),
  etaSeconds: z.number().nullable(),
  failureReason: z.string().nullable(),
});
export const leaseViewSchema = z.object({
  id: z.string(),
  state: z.enum(LEASE_STATES),
  projectId: z.string(),
  projectName: z.string(),
  userId: z.string(),
  userEmail: z.string(),
  poolId: z.string().nullable(),
  poolName: z.string().nullable(),
  startsAt: timestampSchema,
  endsAt: timestampSchema,
  endedAt: timestampSchema.nullable(),
  hosts: z.array(
    z.object({ id: z.string(), name: z.string(), state: z.string(), releasedAt: timestampSchema.nullable(), run: runSummarySchema.optional(), releaseAdvice: z.string().optional(), releaseWait: z.string().optional(), access: hostAccessSchema.optional() }),
  ),
  end: leaseEndViewSchema.describe("The staged end of the lease: warned → grace (capture offered) → capturing → releasing (power off, wipe) → returned."),
});
export const leaseListResponseSchema = paginatedResponseSchema(leaseViewSchema);
export const leaseDetailSchema = leaseViewSchema.extend({ events: z.array(z.object({ at: timestampSchema, kind: z.string(), message: z.string(), actorEmail: z.string().nullable() })) });
