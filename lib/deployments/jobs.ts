// The provisioning jobs' contracts (queue name + payload schema), for the code that enqueues
// them. Their handlers live in workers/jobs/, which re-export these names: lib/ never
// imports the worker, so the two sides cannot form an import cycle.
import type { DeploymentAction } from "../validation/deployments";
import { deploymentJobSchema, powerJobSchema, watchdogJobSchema } from "../validation/deployments";
import { groupRetryJobSchema } from "../validation/deployment-groups";

export const DEPLOY_IMAGE_JOB = { name: "deploy-image", schema: deploymentJobSchema } as const;
export const INSTALL_OS_JOB = { name: "install-os", schema: deploymentJobSchema } as const;
export const CAPTURE_DISK_JOB = { name: "capture-disk", schema: deploymentJobSchema } as const;
export const WIPE_DISK_JOB = { name: "wipe-disk", schema: deploymentJobSchema } as const;
export const COMMISSION_JOB = { name: "commission", schema: deploymentJobSchema } as const;
export const POWER_JOB = { name: "power", schema: powerJobSchema } as const;
export const DEPLOYMENT_WATCHDOG_JOB = { name: "deployment-watchdog", schema: watchdogJobSchema } as const;
/** Retries a failed run of a deployment group for its host alone (./groups.ts). */
export const RETRY_GROUP_HOST_JOB = { name: "retry-group-host", schema: groupRetryJobSchema } as const;

/** The job that runs the worker's steps (power) of each action. */
export const JOB_OF_ACTION: Record<DeploymentAction, typeof DEPLOY_IMAGE_JOB | typeof INSTALL_OS_JOB | typeof CAPTURE_DISK_JOB | typeof WIPE_DISK_JOB | typeof COMMISSION_JOB> = {
  deploy_image: DEPLOY_IMAGE_JOB,
  install: INSTALL_OS_JOB,
  capture_disk: CAPTURE_DISK_JOB,
  wipe_disk: WIPE_DISK_JOB,
  commission: COMMISSION_JOB,
};
