// Contracts of "deploy many at once" (lib/deployments/groups.ts): one run start over several hosts
// of a lease, the group's view, and the job that retries a failed host alone.
import { z } from "zod";
import { RUN_STATES, timestampSchema, uuidSchema } from "./common";
import { deploymentStartSchema, type DeploymentAction } from "./deployments";

/** The actions a group repeats on each host: capturing several disks into one image makes no sense. */
export const GROUP_ACTIONS = ["install", "deploy_image", "wipe_disk"] as const satisfies readonly DeploymentAction[];
export const MAX_GROUP_ATTEMPTS = 5;
export const DEFAULT_GROUP_ATTEMPTS = 2;

export const groupMaxAttemptsSchema = z
  .number()
  .int()
  .min(1)
  .max(MAX_GROUP_ATTEMPTS, `At most ${MAX_GROUP_ATTEMPTS} runs per host.`)
  .default(DEFAULT_GROUP_ATTEMPTS);

/**
 * Template versions pinned before the group starts (a reservation pins them at admission); left
 * out, the templates' latest versions, read once for the whole group.
 */
export const groupPinsSchema = z.object({
  systemTemplateVersion: z.number().int().min(1).optional(),
  unattendedTemplateVersion: z.number().int().min(1).nullable().optional(),
});

/** POST /api/v1/leases/:id/deploy: a run start (deploymentStartSchema) plus which hosts and how many runs each. */
export const leaseDeploySchema = z.object({
  spec: deploymentStartSchema,
  /** Hosts of the lease; all its held hosts when left out. */
  hostIds: z.array(uuidSchema).min(1, "Choose at least one host.").max(500).optional(),
  /** Runs per host in all, the first included: a host whose run fails is retried alone until then. */
  maxAttempts: groupMaxAttemptsSchema,
});
export type LeaseDeploy = z.infer<typeof leaseDeploySchema>;

/** The retry job: one failed run (when it failed), or none (the minutely sweep). */
export const groupRetryJobSchema = z.object({ deploymentId: uuidSchema.optional() }).strict();

const GROUP_HOST_STATES = [...RUN_STATES, "not_started"] as const;

export const groupHostViewSchema = z.object({
  hostId: z.string(),
  name: z.string(),
  /** The latest run's state, or not_started (refused at the start: busy, no longer held). */
  state: z.enum(GROUP_HOST_STATES),
  deploymentId: z.string().nullable(),
  step: z.string().nullable().describe("The current step's label while the run is active."),
  progress: z.object({ bytesWritten: z.number(), totalBytes: z.number().nullable(), percent: z.number().nullable() }),
  attempts: z.number().int().describe("Runs this host has had in the group, the first included."),
  failureReason: z.string().nullable(),
  startedAt: timestampSchema.nullable(),
  finishedAt: timestampSchema.nullable(),
  runs: z.array(z.object({ id: z.string(), state: z.enum(RUN_STATES), createdAt: timestampSchema, finishedAt: timestampSchema.nullable(), failureReason: z.string().nullable() })),
  held: z.boolean().describe("Whether the lease still holds the host."),
});

export const deploymentGroupViewSchema = z.object({
  id: z.string(),
  leaseId: z.string().nullable(),
  reservationId: z.string().nullable(),
  rerunOfRecordId: z.string().nullable(),
  userEmail: z.string().nullable(),
  action: z.enum(GROUP_ACTIONS),
  spec: z.record(z.string(), z.unknown()).describe("The run start every host gets, with its image and template versions pinned."),
  what: z.string().describe("What is deployed, in words (image and version, or templates)."),
  maxAttempts: z.number().int(),
  createdAt: timestampSchema,
  counts: z.object({ total: z.number().int(), done: z.number().int(), active: z.number().int(), failed: z.number().int(), notStarted: z.number().int() }),
  hosts: z.array(groupHostViewSchema),
  canRetryFailed: z.boolean(),
  /** Only in the answer to a start or a retry: the hosts that could not start, and why. */
  refused: z.array(z.object({ hostId: z.string(), name: z.string(), reason: z.string() })).optional(),
});
