import { VERIFY_IMAGE_VERSION_JOB } from "@/lib/images/jobs";
import { verifyImageVersion } from "@/lib/images/verify";
import { defineJob } from "@/lib/jobs/definition";

export const name = VERIFY_IMAGE_VERSION_JOB.name;
export const schema = VERIFY_IMAGE_VERSION_JOB.schema;

export const verifyImageVersionJob = defineJob({ ...VERIFY_IMAGE_VERSION_JOB, handler: (db, data) => verifyImageVersion(db, data) });
