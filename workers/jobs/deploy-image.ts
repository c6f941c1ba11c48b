// A run that writes a disk image through the deploy ramdisk.
import { DEPLOY_IMAGE_JOB } from "@/lib/deployments/jobs";
import { runWorkerSteps } from "@/lib/deployments/worker";
import { defineJob } from "@/lib/jobs/definition";

export const name = DEPLOY_IMAGE_JOB.name;
export const schema = DEPLOY_IMAGE_JOB.schema;

export const deployImageJob = defineJob({ ...DEPLOY_IMAGE_JOB, handler: (db, data) => runWorkerSteps(db, data.deploymentId, "deploy_image") });
