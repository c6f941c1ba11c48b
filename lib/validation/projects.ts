// Contracts for projects, their quotas and members: used by route handlers, forms, the
// OpenAPI document and tests alike.
import { z } from "zod";
import { PROJECT_ROLES } from "@/db/schema/enums";
import { nameSchema, paginatedResponseSchema, timestampSchema, uuidSchema } from "./common";

const quota = z.number().int().min(0).max(1_000_000).nullable();

export const projectCreateSchema = z.object({
  name: nameSchema,
  description: z.string().max(2000).default(""),
  maxHosts: quota.default(null),
  maxLeaseHours: quota.default(null),
  maxNodeHoursPerMonth: quota.default(null),
  maxStorageGb: quota.default(null),
});

export const projectUpdateSchema = z.object({
  name: nameSchema.optional(),
  description: z.string().max(2000).optional(),
  maxHosts: quota.optional(),
  maxLeaseHours: quota.optional(),
  maxNodeHoursPerMonth: quota.optional(),
  maxStorageGb: quota.optional(),
});

export const projectMemberAddSchema = z
  .object({
    userId: uuidSchema.optional(),
    email: z.string().trim().toLowerCase().max(254).optional(),
    role: z.enum(PROJECT_ROLES).default("member"),
  })
  .refine((m) => m.userId || m.email, { message: "Name the user by userId or email.", path: ["email"] });

// Responses (see ./common.ts).
const projectFields = {
  id: z.string(),
  name: z.string(),
  description: z.string(),
  maxHosts: z.number().int().nullable(),
  maxLeaseHours: z.number().nullable(),
  maxNodeHoursPerMonth: z.number().nullable(),
  maxStorageGb: z.number().nullable(),
  createdAt: timestampSchema,
  updatedAt: timestampSchema,
};
const projectUsageSchema = z.object({ activeHosts: z.number().int(), nodeHoursThisMonth: z.number() });
export const projectViewSchema = z.object(projectFields);
export const projectListResponseSchema = paginatedResponseSchema(z.object({ ...projectFields, usage: projectUsageSchema }));
export const projectDetailSchema = z.object({
  ...projectFields,
  yourRole: z.enum(["admin", "member", "leader"]),
  usage: projectUsageSchema,
  members: z.array(z.object({ userId: z.string(), email: z.string(), name: z.string(), role: z.enum(PROJECT_ROLES), addedAt: timestampSchema })),
});
export const projectMemberResponseSchema = z.object({ userId: z.string(), email: z.string(), role: z.enum(PROJECT_ROLES) });
