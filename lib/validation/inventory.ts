// Contracts for hosts, pools, projects and leases: used by route handlers, forms,
// the OpenAPI document and tests alike.
import { z } from "zod";
import { HOST_STATES } from "../hosts/state-machine";
import { normalizeMac } from "../hosts/mac";
import { dateInputSchema, INT32_MAX, nameSchema, paginationSchema, tagSchema, uuidSchema } from "./common";

export const macSchema = z.string().transform((s, ctx) => {
  const mac = normalizeMac(s);
  if (!mac) {
    ctx.addIssue({ code: "custom", message: `“${s.slice(0, 40)}” is not a MAC address (expected six hex pairs, like 52:54:00:12:34:56).` });
    return z.NEVER;
  }
  return mac;
});

export const interfaceSchema = z.object({
  mac: macSchema,
  name: z.string().trim().max(32).default(""),
  isPxe: z.boolean().default(false),
});

export const diskSchema = z.object({
  name: z.string().trim().min(1).max(64),
  sizeBytes: z.number().int().nonnegative().optional(),
  serial: z.string().max(128).optional(),
  model: z.string().max(128).optional(),
});

export const POWER_DRIVERS = ["manual", "wol", "ipmi", "plugin", "qemu", "redfish"] as const;

export const powerSchema = z.object({
  driver: z.enum(POWER_DRIVERS),
  // Non-secret settings: address, port, username, broadcast address…
  params: z.record(z.string(), z.union([z.string().max(500), z.number(), z.boolean()])).default({}),
  // Secret settings (passwords): stored sealed, never returned.
  secrets: z.record(z.string(), z.string().max(500)).optional(),
});

const hostFields = {
  name: nameSchema,
  poolId: uuidSchema.nullable().optional(),
  tags: z.array(tagSchema).max(50).default([]),
  cpuCores: z.number().int().min(1).max(100000).nullable().optional(),
  memoryMb: z.number().int().min(1).max(1_000_000_000).nullable().optional(),
  disks: z.array(diskSchema).max(64).optional(),
  notes: z.string().max(10_000).default(""),
  power: powerSchema.optional(),
};

export const hostCreateSchema = z
  .object({
    ...hostFields,
    interfaces: z.array(interfaceSchema).min(1, "A host needs at least one network interface.").max(16),
    // Admin-created hosts are accepted at once unless asked otherwise.
    state: z.enum(["available", "maintenance"]).default("available"),
  })
  .superRefine((h, ctx) => {
    const seen = new Set<string>();
    h.interfaces.forEach((i, n) => {
      if (seen.has(i.mac)) ctx.addIssue({ code: "custom", path: ["interfaces", n, "mac"], message: `MAC ${i.mac} is listed twice.` });
      seen.add(i.mac);
    });
    if (h.interfaces.filter((i) => i.isPxe).length > 1) ctx.addIssue({ code: "custom", path: ["interfaces"], message: "Mark at most one interface for PXE." });
  });
export type HostCreate = z.infer<typeof hostCreateSchema>;

export const hostUpdateSchema = z.object({
  name: nameSchema.optional(),
  poolId: uuidSchema.nullable().optional(),
  // The site whose boot server answers the host (lib/sites).
  siteId: uuidSchema.optional(),
  tags: z.array(tagSchema).max(50).optional(),
  cpuCores: hostFields.cpuCores,
  memoryMb: hostFields.memoryMb,
  disks: hostFields.disks,
  notes: z.string().max(10_000).optional(),
  power: powerSchema.optional(),
  interfaces: z.array(interfaceSchema).min(1).max(16).optional(),
});
export type HostUpdate = z.infer<typeof hostUpdateSchema>;

export const hostStateChangeSchema = z.object({
  state: z.enum(HOST_STATES),
  reason: z.string().trim().max(500).default(""),
});

export const HOST_SORTS = ["name", "state", "pool", "updated"] as const;

export const hostListQuerySchema = paginationSchema.extend({
  q: z.string().trim().max(200).optional(),
  state: z.enum(HOST_STATES).optional(),
  pool: z.union([uuidSchema, z.literal("none")]).optional(),
  site: uuidSchema.optional(),
  tag: tagSchema.optional(),
  sort: z.enum(HOST_SORTS).default("name"),
  order: z.enum(["asc", "desc"]).default("asc"),
});
export type HostListQuery = z.infer<typeof hostListQuerySchema>;

export const hostBulkSchema = z.object({
  hostIds: z.array(uuidSchema).min(1, "Select at least one host.").max(1000),
  action: z.enum(["move_to_pool", "maintenance", "available", "accept"]),
  poolId: uuidSchema.nullable().optional(),
});

export const hostAcceptSchema = z.object({
  name: nameSchema.optional(),
  poolId: uuidSchema.nullable().optional(),
});

export const poolCreateSchema = z
  .object({
    name: nameSchema,
    description: z.string().max(2000).default(""),
    defaultLeaseHours: z.number().int().min(1).max(24 * 365).default(24),
    maxLeaseHours: z.number().int().min(1).max(24 * 365).default(168),
  })
  .refine((p) => p.defaultLeaseHours <= p.maxLeaseHours, { path: ["defaultLeaseHours"], message: "The default duration cannot exceed the maximum." });

export const poolUpdateSchema = z.object({
  name: nameSchema.optional(),
  description: z.string().max(2000).optional(),
  defaultLeaseHours: z.number().int().min(1).max(24 * 365).optional(),
  maxLeaseHours: z.number().int().min(1).max(24 * 365).optional(),
});

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
    role: z.enum(["member", "leader"]).default("member"),
  })
  .refine((m) => m.userId || m.email, { message: "Name the user by userId or email.", path: ["email"] });

export const leaseCreateSchema = z
  .object({
    projectId: uuidSchema.optional(),
    // From a pool…
    poolId: uuidSchema.optional(),
    count: z.number().int().min(1, "Ask for at least one host.").max(1000).default(1),
    tags: z.array(tagSchema).max(20).default([]),
    minCores: z.number().int().min(1).max(INT32_MAX).optional(),
    minMemoryMb: z.number().int().min(1).max(INT32_MAX).optional(),
    // …or given hosts (admins: direct allocation).
    hostIds: z.array(uuidSchema).min(1).max(1000).optional(),
    // Admins lease on someone's behalf.
    userId: uuidSchema.optional(),
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
  state: z.enum(["active", "released", "expired"]).optional(),
  projectId: uuidSchema.optional(),
  userId: uuidSchema.optional(),
  hostId: uuidSchema.optional(),
});

export const auditListQuerySchema = paginationSchema.extend({
  actor: z.string().trim().max(254).optional(),
  action: z.string().trim().max(100).optional(),
  targetType: z.string().trim().max(50).optional(),
  targetId: z.string().trim().max(100).optional(),
  from: dateInputSchema.optional(),
  to: dateInputSchema.optional(),
});
