// Contracts of diskless roots (docs/diskless.md): what a holder sees of one, and a capture's request.
import { z } from "zod";
import { timestampSchema, uuidSchema } from "./common";

export const disklessCaptureSchema = z
  .object({
    /** The image (of your own) that gets the root as its next version. */
    imageId: uuidSchema,
    notes: z.string().trim().max(2000).optional(),
  })
  .strict();
export type DisklessCapture = z.infer<typeof disklessCaptureSchema>;

/** A live root, without its export's name (the secret only the machine's boot answer carries). */
export const disklessRootSchema = z.object({
  id: uuidSchema,
  hostId: uuidSchema,
  imageId: uuidSchema,
  imageVersion: z.number().int(),
  deploymentId: uuidSchema.nullable(),
  exported: z.boolean(),
  createdAt: timestampSchema,
  resetAt: timestampSchema.nullable(),
});
export const disklessRootResponseSchema = z.object({ root: disklessRootSchema.nullable() });
export const disklessCaptureResponseSchema = z.object({ imageId: uuidSchema, version: z.number().int(), sizeBytes: z.number().int(), sha256: z.string() });
