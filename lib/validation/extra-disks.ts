// Contracts of a lease's extra disks (lib/extra-disks): what a holder asks for, and what the API
// answers. The export name (the secret that opens a disk over NBD) is never part of an answer:
// only the host's rendered templates carry it.
import { z } from "zod";
import { LEASE_DISK_STATES } from "@/db/schema/enums";
import { timestampSchema, uuidSchema } from "./common";


export const leaseDisksCreateSchema = z
  .object({
    hostId: uuidSchema.describe("A host of this lease; the disks are exported to it only."),
    count: z.number().int("A whole number of disks.").min(1, "Ask for at least 1 disk.").max(16, "At most 16 disks at once.").default(1),
    sizeGb: z
      .number("Give the size of each disk in GB (10^9 bytes), e.g. 20.")
      .positive("The size must be more than 0 GB.")
      .describe("Size of each disk in GB (10^9 bytes; fractions allowed), rounded up to whole MiB. Counted in full against the storage quotas, although the file is sparse."),
  })
  .strict();
export type LeaseDisksCreate = z.infer<typeof leaseDisksCreateSchema>;

export const leaseDiskListQuerySchema = z.object({
  // Parsed twice (route, then lib/): the boolean a first parse gives must pass again.
  history: z
    .union([z.boolean(), z.enum(["true", "false"], "Use true or false.").transform((v) => v === "true")])
    .optional()
    .describe("true: also the disks already wiped."),
});

export const leaseDiskViewSchema = z.object({
  id: z.string(),
  leaseId: z.string(),
  hostId: z.string(),
  hostName: z.string(),
  name: z.string().describe("disk1, disk2…: the name templates see it under (extra_disks[].name)."),
  sizeBytes: z.number().int(),
  state: z.enum(LEASE_DISK_STATES).describe("creating (the file and export are being made), ready (exported to the host), wiping (being deleted), wiped (gone; kept as history)."),
  exported: z.boolean().describe("Whether its NBD export is running (templates see ready, exported disks)."),
  lastError: z.string().nullable().describe("The last problem Kiln had making or wiping it (it keeps trying)."),
  createdAt: timestampSchema,
  readyAt: timestampSchema.nullable(),
  wipedAt: timestampSchema.nullable(),
});
export type LeaseDiskView = z.infer<typeof leaseDiskViewSchema>;

export const leaseDiskListSchema = z.object({
  data: z.array(leaseDiskViewSchema),
  limits: z.object({
    perHost: z.number().int().describe("Live disks one host may have (KILN_EXTRA_DISKS_PER_HOST)."),
    maxSizeGb: z.number().describe("The largest disk, in GB (KILN_EXTRA_DISK_MAX_GB)."),
  }),
});
