// Contract of the re-check of a stored image version (lib/images/scrub.ts).
import { z } from "zod";
import { uuidSchema } from "./common";

export const recheckImageVersionPayloadSchema = z
  .object({
    imageId: uuidSchema,
    version: z.number().int().min(1).max(2_147_483_647),
    /** Why it is checked, for the failure reason and the audit log ("a deploy failed its checksum"). */
    cause: z.string().min(1).max(300),
  })
  .strict();
export type RecheckImageVersionPayload = z.infer<typeof recheckImageVersionPayloadSchema>;
