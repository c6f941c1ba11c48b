// The provisioning jobs' contracts (lib/jobs/definition.ts says why contracts live in lib/).
import { defineJobContract, type JobContract } from "../jobs/definition";
import type { DeploymentAction } from "../validation/deployments";
import { deploymentJobSchema, powerJobSchema, watchdogJobSchema } from "../validation/deployments";
import { groupRetryJobSchema } from "../validation/deployment-groups";

/**
 * The worker's steps of a run (./worker.ts): switching the machine on (and off), with retries;
 * the machine does the rest and reports over HTTP (./agent.ts). Retried after a worker crash
 * (heartbeat): the handler re-reads the run and only acts on a power step that is still
 * running, so a second run cannot repeat a finished step.
 */
function defineRunJobContract(name: string): JobContract<typeof deploymentJobSchema> {
  return defineJobContract({ name, schema: deploymentJobSchema, retryable: true, heartbeatSeconds: 10 });
}

export const DEPLOY_IMAGE_JOB = defineRunJobContract("deploy-image");
export const INSTALL_OS_JOB = defineRunJobContract("install-os");
export const CAPTURE_DISK_JOB = defineRunJobContract("capture-disk");
export const WIPE_DISK_JOB = defineRunJobContract("wipe-disk");
export const COMMISSION_JOB = defineRunJobContract("commission");

/**
 * A power action on a host in the background: switching it off after a cancelled run or a
 * lease's end. Retried with backoff: switching a machine off twice is harmless.
 */
export const POWER_JOB = defineJobContract({ name: "power", schema: powerJobSchema, retryable: true });

/**
 * Fails runs whose current step is past its deadline, with that step's reason. Each step with a
 * deadline enqueues a check for its own deadline (with deploymentId); the minutely sweep is the
 * safety net for a check that was lost.
 */
export const DEPLOYMENT_WATCHDOG_JOB = defineJobContract({ name: "deployment-watchdog", schema: watchdogJobSchema, cron: "* * * * *", retryable: true });

/**
 * Retries a failed run of a deployment group for its host alone (./groups.ts). Queued by
 * finishDeployment when a group run fails; the minutely sweep (no deploymentId) catches a failure
 * whose job was lost.
 */
export const RETRY_GROUP_HOST_JOB = defineJobContract({ name: "retry-group-host", schema: groupRetryJobSchema, cron: "* * * * *", retryable: true });

/** The job that runs the worker's steps (power) of each action. */
export const JOB_OF_ACTION: Record<DeploymentAction, JobContract<typeof deploymentJobSchema>> = {
  deploy_image: DEPLOY_IMAGE_JOB,
  install: INSTALL_OS_JOB,
  capture_disk: CAPTURE_DISK_JOB,
  wipe_disk: WIPE_DISK_JOB,
  commission: COMMISSION_JOB,
};
