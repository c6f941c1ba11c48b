// Contracts of a lease's staged end (lib/leases/staged-end.ts): the capture a holder starts
// from the lease (mail link or page), and the stage strip's data in lease responses.
import { z } from "zod";
import { LEASE_END_STAGES } from "@/db/schema/enums";
import { timestampSchema, uuidSchema } from "./common";


/** Pools: minutes a lease stays active after its end to capture the disk (0: none). At most a week. */
export const endGraceMinutesSchema = z.number().int("Whole minutes.").min(0, "Use 0 for no grace period.").max(7 * 24 * 60, "At most a week (10080 minutes).");

export const leaseCaptureSchema = z
  .object({
    hostId: uuidSchema,
    imageId: uuidSchema.optional().describe("An image you own (the capture becomes its next version)."),
    newImageName: z.string().trim().min(1, "Give the new image a name.").max(100, "Use at most 100 characters.").regex(/^[^\u0000-\u001f/\\]+$/, "Image names cannot contain slashes or control characters.").optional().describe("Or: create a private image of this name and capture into it."),
  })
  .strict()
  .refine((b) => (b.imageId === undefined) !== (b.newImageName === undefined), { path: ["imageId"], message: "Choose an image of yours, or name a new one (not both)." });
export type LeaseCapture = z.infer<typeof leaseCaptureSchema>;

export const leaseEndViewSchema = z.object({
  stage: z.enum(LEASE_END_STAGES).nullable().describe("The stage of the end reached: warned, grace, capturing, releasing, returned (null before the reminder)."),
  graceEndsAt: timestampSchema.nullable(),
  graceMinutes: z.number().int().describe("The pool's grace period after a lease's end (0: none)."),
  stages: z.array(z.object({ stage: z.enum(LEASE_END_STAGES), at: timestampSchema, message: z.string() })),
  captures: z.array(z.object({ deploymentId: z.string(), hostId: z.string(), state: z.string(), imageId: z.string().nullable(), imageVersion: z.number().int().nullable() })),
});
