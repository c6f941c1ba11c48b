// A run that erases the disks through the deploy ramdisk (at a lease's end, or when asked), then switches the machine off.
import { WIPE_DISK_JOB } from "@/lib/deployments/jobs";
import { runWorkerSteps } from "@/lib/deployments/worker";
import { defineJob } from "@/lib/jobs/definition";

export const name = WIPE_DISK_JOB.name;
export const schema = WIPE_DISK_JOB.schema;

export const wipeDiskJob = defineJob({ ...WIPE_DISK_JOB, handler: (db, data) => runWorkerSteps(db, data.deploymentId, "wipe_disk") });
