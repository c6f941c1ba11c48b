import { imageUploadsHousekeeping } from "@/lib/images/housekeeping";
import { IMAGE_UPLOADS_HOUSEKEEPING_JOB } from "@/lib/images/jobs";
import { defineJob } from "@/lib/jobs/definition";

export const name = IMAGE_UPLOADS_HOUSEKEEPING_JOB.name;
export const schema = IMAGE_UPLOADS_HOUSEKEEPING_JOB.schema;

export const imageUploadsHousekeepingJob = defineJob({ ...IMAGE_UPLOADS_HOUSEKEEPING_JOB, handler: (db) => imageUploadsHousekeeping(db) });
