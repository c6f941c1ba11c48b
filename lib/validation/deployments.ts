// Contracts of provisioning runs: starting one (API, host page, tests), the job payloads,
// and what the deploy agent on the machine reports.
import { z } from "zod";
import { DEPLOYMENT_ACTIONS, DEPLOYMENT_ORIGINS, DEPLOYMENT_STEP_STATES } from "@/db/schema/enums";
import { paginatedResponseSchema, paginationSchema, PROVISIONING_STATES, recordSchema, RUN_STATES, timestampSchema, uuidSchema } from "./common";
import { diskSchema, macSchema } from "./inventory";
import { varsSchema } from "./templates";
import { postInstallSchema } from "./post-install";

export type DeploymentAction = (typeof DEPLOYMENT_ACTIONS)[number];
/** What a holder may start on a held host; commissioning is Kiln's and admins' (lib/deployments/commission.ts). */
export const HOLDER_ACTIONS = ["install", "deploy_image", "capture_disk", "wipe_disk"] as const satisfies readonly DeploymentAction[];

/** A disk the agent may touch: a kernel name (sda, nvme0n1, vda) or a /dev path, nothing else. */
export const diskNameSchema = z
  .string()
  .trim()
  .regex(/^(\/dev\/)?[A-Za-z0-9][A-Za-z0-9._\/-]{0,62}$/, "Name a disk like sda, nvme0n1 or /dev/disk/by-id/…")
  .refine((s) => !s.includes(".."), "Name a disk like sda, nvme0n1 or /dev/disk/by-id/…");

export { postInstallSchema, type PostInstallInput } from "./post-install";

export const deploymentStartSchema = z
  .object({
    action: z.enum(HOLDER_ACTIONS),
    /** deploy_image: the image to write; capture_disk: the image that gets the new version. */
    imageId: uuidSchema.optional(),
    imageVersion: z.union([z.number().int().min(1), z.literal("latest")]).default("latest"),
    /** install: the templates; when left out, the host's boot settings decide. */
    systemTemplateId: uuidSchema.optional(),
    unattendedTemplateId: uuidSchema.nullable().optional(),
    /**
     * install: a version of the system template to pin instead of its latest; with an unattended
     * template, the same for it (a run record's "re-run" repeats exactly what ran).
     */
    systemTemplateVersion: z.number().int().min(1).optional(),
    unattendedTemplateVersion: z.number().int().min(1).optional(),
    /** Vars for this run; when left out, the host's boot settings' vars. */
    vars: varsSchema.optional(),
    /** The disk to write, wipe or capture; else vars.disk, else the agent picks the only/first disk. */
    disk: diskNameSchema.optional(),
    /** deploy_image: erase the whole disk before writing (else only what the image covers). */
    wipeFirst: z.boolean().default(false),
    /** wipe_disk: quick erases signatures, partition tables and both ends of each disk; full zeroes every byte. */
    wipeMode: z.enum(["quick", "full"]).default("quick"),
    /** Mail me when the run ends. */
    notify: z.boolean().default(false),
    /**
     * install, deploy_image: a git repository whose script or playbook the installed system runs on
     * its first boot, its output in the run's log (docs/post-install.md). Left out: the unattended
     * template's default, if it has one; null: none, whatever the template says.
     */
    postInstall: postInstallSchema.nullable().optional(),
    /** deploy_image: boot the version diskless, from a copy-on-write root over NBD, without writing the disk (docs/diskless.md). */
    diskless: z.boolean().default(false),
  })
  .refine((d) => d.action !== "deploy_image" || d.imageId, { path: ["imageId"], message: "Choose the image to deploy." })
  .refine((d) => d.action !== "capture_disk" || d.imageId, { path: ["imageId"], message: "Choose the image that gets the captured disk as a new version." })
  .refine((d) => !d.postInstall || d.action === "install" || d.action === "deploy_image", { path: ["postInstall"], message: "Post-install configuration runs on an installed system: only an install or an image deploy can have it." })
  .refine((d) => !d.diskless || d.action === "deploy_image", { path: ["diskless"], message: "Only an image can be booted diskless." })
  .refine((d) => !d.diskless || (!d.unattendedTemplateId && !d.postInstall), { path: ["diskless"], message: "A diskless boot runs the image as it is: no cloud-init template or post-install." });
export type DeploymentStart = z.infer<typeof deploymentStartSchema>;

export const deploymentListQuerySchema = paginationSchema;

export const deploymentGetQuerySchema = z.object({
  /** Log lines after this id only (the live view asks for what it has not seen). */
  logs_after: z.coerce.number().int().min(0).optional(),
});

// Job payloads carry ids only; handlers re-read the row.
export const deploymentJobSchema = z.object({ deploymentId: uuidSchema }).strict();

export const powerJobSchema = z
  .object({
    hostId: uuidSchema,
    action: z.enum(["on", "off", "cycle", "status"]),
    /** The run this power action belongs to, whose log gets the driver's lines. */
    deploymentId: uuidSchema.optional(),
    reason: z.string().max(200).default(""),
  })
  .strict();

export const watchdogJobSchema = z.object({ deploymentId: uuidSchema.optional() }).strict();

// What the agent in the deploy ramdisk reports.
export const AGENT_PHASES = ["write", "verify", "wipe", "capture"] as const;

export const agentProgressSchema = z.object({
  bytes: z.number().int().min(0),
  totalBytes: z.number().int().min(0).optional(),
  /** Bytes per second, as the agent measures it; Kiln computes one when left out. */
  rate: z.number().min(0).optional(),
  phase: z.enum(AGENT_PHASES).optional(),
  message: z.string().max(500).optional(),
});
export type AgentProgress = z.infer<typeof agentProgressSchema>;

export const agentLogSchema = z.object({ lines: z.array(z.string().max(4000)).min(1).max(1000) });

export const agentInventorySchema = z.object({
  cpuCores: z.number().int().min(1).max(100000).optional(),
  memoryMb: z.number().int().min(1).max(1_000_000_000).optional(),
  disks: z
    .array(
      diskSchema.extend({
        rotational: z.boolean().optional(),
        /** Computed by Kiln from the name and rotational flag when left out (lib/hosts/facts.ts). */
        type: z.enum(["hdd", "ssd", "nvme"]).optional(),
      }),
    )
    .max(64)
    .optional(),
  nics: z
    .array(
      z.object({
        mac: macSchema,
        name: z.string().trim().max(32).default(""),
        /** The kernel driver (virtio_net, ixgbe, mlx5_core), from /sys/class/net/<nic>/device/driver. */
        driver: z.string().trim().max(64).optional(),
        speedMbps: z.number().int().min(0).optional(),
        link: z.boolean().optional(),
        /** The interface's addresses, as `ip addr` shows them ("10.0.2.15/24"): Kiln records the routable ones. */
        addresses: z.array(z.string().max(64)).max(32).optional(),
      }),
    )
    .max(64)
    .optional(),
  // Commissioning's facts (agents from before send none of these; each stays optional).
  cpu: z
    .object({
      model: z.string().trim().max(200).optional(),
      vendor: z.string().trim().max(100).optional(),
      threads: z.number().int().min(1).max(100000).optional(),
      cores: z.number().int().min(1).max(100000).optional(),
      sockets: z.number().int().min(1).max(1024).optional(),
    })
    .optional(),
  dmi: z
    .object({
      vendor: z.string().trim().max(200).optional(),
      product: z.string().trim().max(200).optional(),
      serial: z.string().trim().max(200).optional(),
      boardVendor: z.string().trim().max(200).optional(),
      boardName: z.string().trim().max(200).optional(),
      biosVendor: z.string().trim().max(200).optional(),
      biosVersion: z.string().trim().max(200).optional(),
    })
    .optional(),
  firmware: z.enum(["bios", "uefi"]).optional(),
  /** The BMC's LAN address as `ipmitool lan print` gives it; null: looked for, none found. */
  bmc: z
    .object({ address: z.string().trim().max(64), mac: z.string().trim().max(32).optional() })
    .nullable()
    .optional(),
  /** Anything else worth showing (vendor, model, serial, BIOS), as flat values. */
  facts: z.record(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/), z.union([z.string().max(500), z.number(), z.boolean()])).optional(),
});
export type AgentInventory = z.infer<typeof agentInventorySchema>;

export const agentFinishSchema = z.object({
  reason: z.string().max(2000).optional(),
  /** deploy_image / capture_disk: what was written or read, for the record. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  bytes: z.number().int().min(0).optional(),
  /** The installed system's (or its installer's) addresses, each with its interface's MAC when known. */
  addresses: z
    .array(z.object({ address: z.string().max(64), mac: z.string().max(32).nullish() }))
    .max(64)
    .optional(),
  /** wipe_disk: what was erased, for the lease's erase record. */
  erased: z
    .array(z.object({ disk: z.string().max(64), sizeBytes: z.number().int().min(0), method: z.string().max(200) }))
    .max(64)
    .optional(),
});

/** An event id to resume after; anything unreadable starts from "now". */
export const eventCursorSchema = z
  .string()
  .optional()
  .transform((v) => (v && /^\d{1,18}$/.test(v.trim()) ? Number(v.trim()) : null));

// Responses (see ./common.ts).
export const stepViewSchema = z.object({
  name: z.string(),
  label: z.string(),
  state: z.enum(DEPLOYMENT_STEP_STATES),
  startedAt: timestampSchema.nullable(),
  finishedAt: timestampSchema.nullable(),
  timeoutAt: timestampSchema.nullable(),
  timeoutSeconds: z.number().int().nullable(),
  attempts: z.number().int(),
  message: z.string().nullable(),
  failureReason: z.string().nullable(),
});

const templatePinSchema = z.object({ id: z.string(), name: z.string().nullable(), version: z.number().int().nullable() }).nullable();

export const deploymentSummarySchema = z.object({
  id: z.string(),
  hostId: z.string(),
  hostName: z.string(),
  action: z.enum(DEPLOYMENT_ACTIONS),
  actionLabel: z.string(),
  state: z.enum(RUN_STATES),
  origin: z.enum(DEPLOYMENT_ORIGINS),
  provisioning: z.enum(PROVISIONING_STATES),
  userEmail: z.string().nullable(),
  leaseId: z.string().nullable(),
  systemTemplate: templatePinSchema,
  unattendedTemplate: templatePinSchema,
  image: z.object({ id: z.string(), version: z.number().int().nullable() }).nullable(),
  vars: recordSchema,
  options: z.object({
    disk: z.string().optional(),
    wipeFirst: z.boolean().optional(),
    wipeMode: z.enum(["quick", "full"]).optional(),
    power: z.boolean().optional(),
    notify: z.boolean().optional(),
    captureImageId: z.string().optional(),
  }),
  bootCount: z.number().int(),
  retryOfId: z.string().nullable(),
  groupId: z.string().nullable().describe("The deployment group the run belongs to (`GET /api/v1/deployment-groups/{id}`, page /deployments/groups/{id}), if any."),
  createdAt: timestampSchema,
  startedAt: timestampSchema.nullable(),
  finishedAt: timestampSchema.nullable(),
  failureReason: z.string().nullable(),
  progress: z.object({
    bytesWritten: z.number(),
    totalBytes: z.number().nullable(),
    rateBytesPerSecond: z.number().nullable(),
    etaSeconds: z.number().nullable(),
    updatedAt: timestampSchema.nullable(),
  }),
  currentStep: z.string().nullable(),
  steps: z.array(stepViewSchema),
  canCancel: z.boolean(),
  canRetry: z.boolean(),
});

/** One run with its latest log lines and the host feed's position (GET /deployments/{id}, start, cancel, retry). */
export const deploymentViewSchema = deploymentSummarySchema.extend({
  logs: z.array(z.object({ id: z.number().int(), at: timestampSchema, source: z.string(), line: z.string() })),
  logCount: z.number().int(),
  lastEventId: z.number().int(),
  console: z
    .object({ text: z.string(), updatedAt: timestampSchema })
    .nullable()
    .describe("The machine's last console lines (up to 200 lines / 64 KiB, plain text), kept while the run went on; null when its power driver offers no console."),
  recordId: z.string().nullable().describe("The run's experiment record (`GET /api/v1/records/{id}`, page /records/{id}); null for runs that get none (wipes, captures, Kiln's own)."),
});

export const deploymentListResponseSchema = paginatedResponseSchema(deploymentSummarySchema).extend({ lastEventId: z.number().int() });

/** What the machine does at its next network boot. */
export const nextBootResponseSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("run"), deploymentId: z.string(), action: z.enum(DEPLOYMENT_ACTIONS), label: z.string() }),
  z.object({ kind: z.literal("disk") }),
  z.object({ kind: z.literal("halt"), deploymentId: z.string(), reason: z.string(), state: z.enum(["failed", "cancelled"]), finishedAt: timestampSchema.nullable() }),
  z.object({ kind: z.literal("diskless"), imageId: z.string(), imageVersion: z.number().int(), deploymentId: z.string().nullable(), resetAt: timestampSchema.nullable() }),
]);
