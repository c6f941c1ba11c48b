// Hashes a ready version's stored blob again (a deploy of it failed its checksum): a blob that
// no longer matches fails the version with the reason, so nothing deploys it again.
import { defineJob } from "@/lib/jobs/definition";
import { RECHECK_IMAGE_VERSION_JOB, recheckStoredVersion } from "@/lib/images/scrub";

export const name = RECHECK_IMAGE_VERSION_JOB.name;
export const schema = RECHECK_IMAGE_VERSION_JOB.schema;

// Not retried: the check is a read; a crash leaves the version ready, and the scrub reaches it.
export const recheckImageVersionJob = defineJob({ name, schema, retryable: false, handler: (db, data) => recheckStoredVersion(db, data) });
