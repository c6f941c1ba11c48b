// The worker's steps of a run that writes a disk image through the deploy ramdisk: switching the machine on (and off), with
// retries. The machine does the rest and reports over HTTP (lib/deployments/agent.ts).
import { DEPLOY_IMAGE_JOB } from "@/lib/deployments/jobs";
import { runWorkerSteps } from "@/lib/deployments/worker";
import { defineJob } from "@/lib/jobs/definition";

export const name = DEPLOY_IMAGE_JOB.name;
export const schema = DEPLOY_IMAGE_JOB.schema;

// Retried after a worker crash (heartbeat): the handler re-reads the run and only acts on a
// power step that is still running, so a second run cannot repeat a finished step.
export const deployImageJob = defineJob({ name, schema, retryable: true, heartbeatSeconds: 10, handler: (db, data) => runWorkerSteps(db, data.deploymentId, "deploy_image") });
