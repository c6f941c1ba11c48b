// The worker's steps of a run that erases the disks through the deploy ramdisk (at a lease's end, or when asked), then switches the machine off: switching the machine on (and off), with
// retries. The machine does the rest and reports over HTTP (lib/deployments/agent.ts).
import { WIPE_DISK_JOB } from "@/lib/deployments/jobs";
import { runWorkerSteps } from "@/lib/deployments/worker";
import { defineJob } from "@/lib/jobs/definition";

export const name = WIPE_DISK_JOB.name;
export const schema = WIPE_DISK_JOB.schema;

// Retried after a worker crash (heartbeat): the handler re-reads the run and only acts on a
// power step that is still running, so a second run cannot repeat a finished step.
export const wipeDiskJob = defineJob({ name, schema, retryable: true, heartbeatSeconds: 10, handler: (db, data) => runWorkerSteps(db, data.deploymentId, "wipe_disk") });
