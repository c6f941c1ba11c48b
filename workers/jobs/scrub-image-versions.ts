import { SCRUB_IMAGE_VERSIONS_JOB } from "@/lib/images/jobs";
import { scrubImageVersions } from "@/lib/images/scrub";
import { defineJob } from "@/lib/jobs/definition";

export const name = SCRUB_IMAGE_VERSIONS_JOB.name;
export const schema = SCRUB_IMAGE_VERSIONS_JOB.schema;

// One run starts no new version after nine minutes, so scheduled runs do not pile up.
export const scrubImageVersionsJob = defineJob({ ...SCRUB_IMAGE_VERSIONS_JOB, handler: (db) => scrubImageVersions(db, { budgetMs: 9 * 60_000 }) });
