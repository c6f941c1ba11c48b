// A run that reads the disk into a new image version through the deploy ramdisk.
import { CAPTURE_DISK_JOB } from "@/lib/deployments/jobs";
import { runWorkerSteps } from "@/lib/deployments/worker";
import { defineJob } from "@/lib/jobs/definition";

export const name = CAPTURE_DISK_JOB.name;
export const schema = CAPTURE_DISK_JOB.schema;

export const captureDiskJob = defineJob({ ...CAPTURE_DISK_JOB, handler: (db, data) => runWorkerSteps(db, data.deploymentId, "capture_disk") });
