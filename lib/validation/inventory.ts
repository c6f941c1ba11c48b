// Contracts for hosts, and the hardware criteria and host request that leases, reservations and
// pool matches share: used by route handlers, forms, the OpenAPI document and tests alike. Pools,
// projects, leases and the audit log have their own files beside it.
import { z } from "zod";
import { HOST_ADDRESS_SOURCES, HOST_ARCHES, HOST_STATES, LEASE_STATES } from "@/db/schema/enums";
import { normalizeMac } from "./mac";
import { INT32_MAX, nameSchema, paginatedResponseSchema, paginationSchema, PROVISIONING_STATES, recordSchema, RUN_ACTIONS, RUN_STATES, tagSchema, timestampSchema, uuidSchema } from "./common";

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

/** A machine's instruction set (hosts.arch), and what an image version runs on (image_versions.arch). */
export type HostArchName = (typeof HOST_ARCHES)[number];

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
  arch: z.enum(HOST_ARCHES).optional().describe("x86_64 or arm64: which image versions it can run (a mismatch is refused)."),
  piSerial: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^[0-9a-f]{8}$/, "A Raspberry Pi serial is 8 hex digits (the last 8 of `cat /proc/cpuinfo`'s Serial), as its firmware asks TFTP.")
    .nullable()
    .optional()
    .describe("A Raspberry Pi's serial number: its TFTP requests `<serial>/<file>` are answered for this host (docs/raspberry-pi.md). null clears it."),
  power: powerSchema.optional(),
  // A replacement list, as the host page's editor sends it: its MACs distinct, one PXE at most.
  interfaces: z
    .array(interfaceSchema)
    .min(1, "A host needs at least one network interface.")
    .max(16)
    .superRefine((list, ctx) => {
      const seen = new Set<string>();
      list.forEach((i, n) => {
        if (seen.has(i.mac)) ctx.addIssue({ code: "custom", path: [n, "mac"], message: `MAC ${i.mac} is listed twice.` });
        seen.add(i.mac);
      });
      if (list.filter((i) => i.isPxe).length > 1) ctx.addIssue({ code: "custom", message: "Mark at most one interface for PXE." });
    })
    .optional(),
});
export type HostUpdate = z.infer<typeof hostUpdateSchema>;

export const hostStateChangeSchema = z.object({
  state: z.enum(HOST_STATES),
  reason: z.string().trim().max(500).default(""),
});

export const HOST_SORTS = ["name", "state", "pool", "updated"] as const;

export const DISK_TYPES = ["hdd", "ssd", "nvme"] as const;
export const FIRMWARE_KINDS = ["bios", "uefi"] as const;

/**
 * Hardware a lease asks for and the host lists filter by, read from the facts commissioning
 * stores (cores, memory, disks, facts.cpu/nics/firmware). One shape for JSON bodies and query
 * strings: `num` is z.number for a body, z.coerce.number for `?minCores=16`.
 */
export function hardwareFilterShape<N extends z.ZodNumber | z.ZodCoercedNumber>(num: () => N) {
  return {
    minCores: num().int().min(1).max(INT32_MAX).optional(),
    minMemoryMb: num().int().min(1).max(INT32_MAX).optional(),
    minDiskGb: num().int().min(1).max(INT32_MAX).optional().describe("Some single disk of at least this size, in GB of 10^9 bytes (as disks are sold). With diskType, the same disk must be of that type."),
    diskType: z
      .enum(DISK_TYPES)
      .optional()
      .describe("ssd: any solid-state disk, SATA/SAS SSD or NVMe; nvme: NVMe only; hdd: rotational. A disk without a reported type counts by its rotational flag, and nvme* names as NVMe."),
    firmware: z.enum(FIRMWARE_KINDS).optional(),
    arch: z.enum(HOST_ARCHES).optional().describe("x86_64 or arm64 (hosts.arch). A reservation that deploys an image asks for the image version's architecture itself."),
    cpuModel: z.string().trim().min(1).max(100, "Use at most 100 characters.").optional().describe("Part of the CPU model, any case (e.g. `EPYC`, `xeon gold`)."),
    minNicSpeedMbps: num().int().min(1).max(INT32_MAX).optional().describe("Some network interface of at least this speed, in Mb/s."),
  };
}
export const hardwareFilterSchema = z.object(hardwareFilterShape(() => z.number()));
export type HardwareFilter = z.infer<typeof hardwareFilterSchema>;
const HARDWARE_FILTER_KEYS = Object.keys(hardwareFilterSchema.shape) as (keyof HardwareFilter)[];

/** The hardware criteria of a parsed lease body or host list query, without its other fields. */
export function pickHardwareFilter(input: HardwareFilter): HardwareFilter {
  const out: Record<string, unknown> = {};
  for (const k of HARDWARE_FILTER_KEYS) if (input[k] !== undefined) out[k] = input[k];
  return out as HardwareFilter;
}

export const hostListQuerySchema = paginationSchema.extend({
  q: z.string().trim().max(200).optional(),
  state: z.enum(HOST_STATES).optional(),
  pool: z.union([uuidSchema, z.literal("none")]).optional(),
  site: uuidSchema.optional(),
  tag: tagSchema.optional(),
  ...hardwareFilterShape(() => z.coerce.number()),
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

/**
 * Which hosts a lease or a reservation asks for: `count` from a pool (by tags and hardware) or
 * named hosts, for a project and (admins) on someone's behalf. Each extends it with its times
 * and says itself whether pool and hostIds may come together.
 */
export const hostRequestSchema = z.object({
  projectId: uuidSchema.optional(),
  // From a pool…
  poolId: uuidSchema.optional(),
  count: z.number().int().min(1, "Ask for at least one host.").max(1000).default(1),
  tags: z.array(tagSchema).max(20).default([]),
  ...hardwareFilterSchema.shape,
  // …or given hosts (admins: direct allocation; the calendar names them for a reservation).
  hostIds: z.array(uuidSchema).min(1).max(1000).optional(),
  // Admins lease or reserve on someone's behalf.
  userId: uuidSchema.optional(),
});

// Responses (see ./common.ts).
export const hostAddressViewSchema = z.object({
  address: z.string(),
  family: z.union([z.literal(4), z.literal(6)]),
  scope: z.enum(["global", "private", "link-local", "loopback", "unspecified", "multicast"]),
  source: z.enum(HOST_ADDRESS_SOURCES).describe("boot: the source of its network-boot request as Kiln saw it (a relay's address behind one); agent: Kiln's deploy ramdisk's interfaces; installed: the installed system's done call."),
  mac: z.string().nullable(),
  seenAt: timestampSchema,
});

export const hostProvisioningSchema = z
  .object({
    state: z.enum(PROVISIONING_STATES).describe("From the latest run: deploying, deployed, failed, cancelled (or wiping/wiped, capturing/captured); none: no run yet. A researcher sees runs of their own lease only."),
    runId: z.string().nullable(),
    action: z.enum(RUN_ACTIONS).nullable(),
    runState: z.enum(RUN_STATES).nullable(),
    finishedAt: timestampSchema.nullable(),
    failureReason: z.string().nullable(),
  })
  .describe("Whether the machine is deployed, deploying or failed.");

export const hostAccessSchema = z
  .object({
    address: z.string(),
    addressSource: z.enum(HOST_ADDRESS_SOURCES),
    user: z.string(),
    userSource: z.enum(["run vars", "installer answers", "fallback"]).describe("fallback: Kiln does not know the system's accounts and says root."),
    command: z.string().describe("`ssh <user>@<address>`"),
  })
  .nullable()
  .describe("An ssh line from the best routable address known (null: none yet; loopback and link-local addresses get none).");

const hostLeaseSchema = z.object({ id: z.string(), holderEmail: z.string().nullable(), endsAt: timestampSchema.nullable() });
const releaseWaitSchema = z.object({ message: z.string(), deploymentId: z.string(), leaseId: z.string().nullable(), since: timestampSchema.nullable(), until: timestampSchema.nullable() });

export const hostViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  state: z.enum(HOST_STATES),
  poolId: z.string().nullable(),
  poolName: z.string().nullish(),
  siteId: z.string(),
  tags: z.array(z.string()),
  cpuCores: z.number().int().nullable(),
  memoryMb: z.number().int().nullable(),
  disks: z.array(
    z.object({ name: z.string(), sizeBytes: z.number().optional(), serial: z.string().optional(), model: z.string().optional(), rotational: z.boolean().optional(), type: z.enum(DISK_TYPES).optional() }),
  ),
  facts: recordSchema.describe(
    "What the deploy agent reported (docs/commissioning.md): `cpu` {model, vendor, threads, cores?, sockets?}, `nics` [{mac, name, driver, speedMbps, link}], `dmi` {vendor, product, serial, boardVendor?, boardName?}, `firmware` bios|uefi, `bmc` {address}|null, `commissionedAt`; and any flat keys an older agent sent.",
  ),
  interfaces: z.array(z.object({ mac: z.string(), name: z.string(), isPxe: z.boolean() })),
  notes: z.string(),
  power: z.object({ driver: z.string(), params: recordSchema, secretsSet: z.array(z.string()) }).optional().describe("Administrators only."),
  hostnameHint: z.string().nullable(),
  arch: z.enum(HOST_ARCHES).describe("x86_64 or arm64 (beside facts.firmware bios|uefi): which image versions it can run."),
  piSerial: z.string().nullable().describe("A Raspberry Pi's serial number (8 hex digits) as its firmware asks TFTP (docs/raspberry-pi.md); null otherwise."),
  firstSeenAt: timestampSchema.nullable(),
  lastSeenAt: timestampSchema.nullable(),
  stateChangedAt: timestampSchema,
  lease: hostLeaseSchema.nullish(),
  releaseWait: releaseWaitSchema.nullish(),
});

/** A host as the list and GET /hosts/{id} show it: with what Kiln learned about reaching it and its deploy status. */
export const hostWithAccessSchema = hostViewSchema.extend({
  lease: hostLeaseSchema.nullable(),
  releaseWait: releaseWaitSchema.nullable(),
  addresses: z.array(hostAddressViewSchema),
  provisioning: hostProvisioningSchema,
  access: hostAccessSchema,
});

export const hostListResponseSchema = paginatedResponseSchema(hostWithAccessSchema);

export const hostDetailResponseSchema = z.object({
  host: hostWithAccessSchema,
  leases: z.array(z.object({ leaseId: z.string(), userId: z.string(), userEmail: z.string(), state: z.enum(LEASE_STATES), addedAt: timestampSchema, releasedAt: timestampSchema.nullable(), endsAt: timestampSchema })),
  events: z.array(
    z.object({ at: timestampSchema, kind: z.string(), fromState: z.enum(HOST_STATES).nullable(), toState: z.enum(HOST_STATES).nullable(), message: z.string(), actorEmail: z.string().nullable(), leaseId: z.string().nullable() }),
  ),
});

export const hostBulkResponseSchema = z.object({ updated: z.number().int() });

export const hostImportResponseSchema = z.object({
  dryRun: z.boolean(),
  count: z.number().int(),
  imported: z.number().int(),
  preview: z.array(
    z.object({ row: z.number().int(), name: z.string(), macs: z.array(z.string()), pool: z.string().nullable(), site: z.string().nullable(), tags: z.array(z.string()), state: z.string(), powerDriver: z.string(), secretsSet: z.array(z.string()) }),
  ),
});

export const consoleTicketResponseSchema = z.object({
  ticket: z.string(),
  url: z.string().describe("The WebSocket path, ticket included."),
  expiresAt: timestampSchema,
  kind: z.string().describe("Where the console comes from: the lab machine's serial socket, or IPMI Serial-over-LAN."),
});
