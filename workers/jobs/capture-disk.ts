// The worker's steps of a run that reads the disk into a new image version through the deploy ramdisk: switching the machine on (and off), with
// retries. The machine does the rest and reports over HTTP (lib/deployments/agent.ts).
import { CAPTURE_DISK_JOB } from "@/lib/deployments/jobs";
import { runWorkerSteps } from "@/lib/deployments/worker";
import { defineJob } from "@/lib/jobs/definition";

export const name = CAPTURE_DISK_JOB.name;
export const schema = CAPTURE_DISK_JOB.schema;

// Retried after a worker crash (heartbeat): the handler re-reads the run and only acts on a
// power step that is still running, so a second run cannot repeat a finished step.
export const captureDiskJob = defineJob({ name, schema, retryable: true, heartbeatSeconds: 10, handler: (db, data) => runWorkerSteps(db, data.deploymentId, "capture_disk") });
