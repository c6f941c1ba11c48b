// Contracts for the audit log's search: the query and the page it answers.
import { z } from "zod";
import { dateInputSchema, paginatedResponseSchema, paginationSchema, recordSchema, timestampSchema } from "./common";

export const auditListQuerySchema = paginationSchema.extend({
  actor: z.string().trim().max(254).optional(),
  action: z.string().trim().max(100).optional(),
  targetType: z.string().trim().max(50).optional(),
  targetId: z.string().trim().max(100).optional(),
  from: dateInputSchema.optional(),
  to: dateInputSchema.optional(),
});

// Responses (see ./common.ts).
export const auditListResponseSchema = paginatedResponseSchema(
  z.object({
    id: z.number().int(),
    at: timestampSchema,
    actorUserId: z.string().nullable(),
    actorEmail: z.string().nullable(),
    actorIp: z.string().nullable(),
    action: z.string(),
    targetType: z.string(),
    targetId: z.string().nullable(),
    summary: z.string(),
    data: recordSchema,
  }),
);
