import { RECHECK_IMAGE_VERSION_JOB } from "@/lib/images/jobs";
import { recheckStoredVersion } from "@/lib/images/scrub";
import { defineJob } from "@/lib/jobs/definition";

export const name = RECHECK_IMAGE_VERSION_JOB.name;
export const schema = RECHECK_IMAGE_VERSION_JOB.schema;

export const recheckImageVersionJob = defineJob({ ...RECHECK_IMAGE_VERSION_JOB, handler: (db, data) => recheckStoredVersion(db, data) });
