// Contracts of advance reservations (issue 16 item 1) and maintenance windows: what the API,
// the calendar and the "Reserve" form send, and what they get back.
import { z } from "zod";
import { RESERVATION_STATES } from "@/db/schema/enums";
import { dateInputSchema, paginatedResponseSchema, paginationSchema, tagSchema, timestampSchema, uuidSchema } from "./common";
import { deploymentStartSchema } from "./deployments";
import { hostRequestSchema } from "./inventory";

/**
 * "Ready at the start": a run start as for one host (deploymentStartSchema), limited to what
 * makes a machine ready (an install or an image deploy). Versions are pinned at admission.
 */
export const reservationDeploySchema = deploymentStartSchema.refine((d) => d.action === "install" || d.action === "deploy_image", {
  path: ["action"],
  message: "A reservation can have an install or an image deploy ready at its start.",
});

export const reservationCreateSchema = hostRequestSchema
  .extend({
    title: z.string().trim().max(200, "Use at most 200 characters.").default(""),
    startsAt: dateInputSchema,
    endsAt: dateInputSchema,
    deploy: reservationDeploySchema.optional(),
  })
  .refine((r) => Boolean(r.poolId) || Boolean(r.hostIds), { message: "Ask for hosts from a pool (poolId, count) or name them (hostIds).", path: ["poolId"] })
  .refine((r) => r.endsAt.getTime() > r.startsAt.getTime(), { message: "The end must be after the start.", path: ["endsAt"] });
export type ReservationCreate = z.infer<typeof reservationCreateSchema>;


export const reservationListQuerySchema = paginationSchema.extend({
  scope: z.enum(["mine", "all"]).default("mine"),
  poolId: uuidSchema.optional(),
  state: z.enum(RESERVATION_STATES).optional(),
  /** Reservations that overlap [from, to). */
  from: dateInputSchema.optional(),
  to: dateInputSchema.optional(),
});

export const maintenanceWindowCreateSchema = z
  .object({
    poolId: uuidSchema.optional(),
    hostId: uuidSchema.optional(),
    startsAt: dateInputSchema,
    endsAt: dateInputSchema,
    reason: z.string().trim().max(500, "Use at most 500 characters.").default(""),
    /** Create it even where active leases hold hosts in that time (they are not touched). */
    force: z.boolean().default(false),
  })
  .refine((w) => Boolean(w.poolId) !== Boolean(w.hostId), { message: "A maintenance window is for a pool (poolId) or for one host (hostId).", path: ["poolId"] })
  .refine((w) => w.endsAt.getTime() > w.startsAt.getTime(), { message: "The end must be after the start.", path: ["endsAt"] });

export const maintenanceWindowListQuerySchema = paginationSchema.extend({
  poolId: uuidSchema.optional(),
  hostId: uuidSchema.optional(),
  from: dateInputSchema.optional(),
  to: dateInputSchema.optional(),
});

// Responses.
export const reservationHostViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  state: z.string(),
  chosenAt: timestampSchema,
  replacedAt: timestampSchema.nullable(),
  replacedReason: z.string().nullable(),
});

export const reservationViewSchema = z.object({
  id: z.string(),
  state: z.enum(RESERVATION_STATES),
  title: z.string(),
  projectId: z.string(),
  projectName: z.string(),
  userId: z.string(),
  userEmail: z.string(),
  poolId: z.string().nullable(),
  poolName: z.string().nullable(),
  count: z.number().int(),
  criteria: z.record(z.string(), z.unknown()),
  startsAt: timestampSchema,
  endsAt: timestampSchema,
  prepareFrom: timestampSchema,
  /** Every host chosen, replaced ones included (replacedAt set). */
  hosts: z.array(reservationHostViewSchema),
  /** What is deployed for the start, in words ("deploy_image Debian 12 v3"), or null. */
  deploySummary: z.string().nullable(),
  deploy: z.record(z.string(), z.unknown()).nullable(),
  plan: z.record(z.string(), z.unknown()).nullable(),
  /** The deployment group of its "ready at the start" deploys, once started (/deployments/groups/{id}). */
  groupId: z.string().nullable(),
  leaseId: z.string().nullable(),
  failureReason: z.string().nullable(),
  cancelledAt: timestampSchema.nullable(),
  createdAt: timestampSchema,
});
export const reservationListResponseSchema = paginatedResponseSchema(reservationViewSchema);
export const reservationDetailSchema = reservationViewSchema.extend({
  /** Each host's latest run in that group (state as a run's: queued, running, done, failed…). */
  readyRuns: z.array(z.object({ hostId: z.string(), hostName: z.string(), state: z.string() })),
  history: z.array(z.object({ at: timestampSchema, action: z.string(), summary: z.string(), actorEmail: z.string().nullable() })),
});

export const maintenanceWindowViewSchema = z.object({
  id: z.string(),
  poolId: z.string().nullable(),
  poolName: z.string().nullable(),
  hostId: z.string().nullable(),
  hostName: z.string().nullable(),
  startsAt: timestampSchema,
  endsAt: timestampSchema,
  reason: z.string(),
  createdAt: timestampSchema,
});
export const maintenanceWindowListResponseSchema = paginatedResponseSchema(maintenanceWindowViewSchema);
export const maintenanceWindowCreateResponseSchema = z.object({
  window: maintenanceWindowViewSchema,
  /** Scheduled reservations whose hosts were re-chosen (short: no replacement was free for some). */
  affectedReservations: z.array(z.object({ id: z.string(), title: z.string(), projectName: z.string(), replaced: z.array(z.object({ from: z.string(), to: z.string().nullable() })), short: z.boolean() })),
  /** Active leases holding hosts in that time (created with force; not touched). */
  overlappingLeases: z.array(z.object({ leaseId: z.string(), projectName: z.string(), hosts: z.array(z.string()), endsAt: timestampSchema })),
});
