// The images' job contracts (lib/jobs/definition.ts says why contracts live in lib/).
import { defineJobContract, emptyJobSchema } from "../jobs/definition";
import { recheckImageVersionPayloadSchema } from "../validation/image-scrub";
import { verifyImageVersionPayloadSchema } from "../validation/images";

/**
 * After an upload's last byte (./uploads.ts): hash, detect the format, compare the client's
 * checksum, convert qcow2 to raw, and mark the version ready or failed (./verify.ts).
 * Not retried by pg-boss: a failure is recorded on the version, and a crash leaves it in
 * `verifying`, which the housekeeping job picks up again.
 * Polled every half second: the uploader watches "verifying…" turn into "ready".
 */
export const VERIFY_IMAGE_VERSION_JOB = defineJobContract({ name: "verify-image-version", schema: verifyImageVersionPayloadSchema, retryable: false, pollingIntervalSeconds: 0.5 });

/**
 * Hashes a ready version's stored blob again, when a deploy of it failed its checksum
 * (lib/deployments/agent.ts): a blob that no longer matches fails the version (./scrub.ts).
 * Not retried: the check is a read; a crash leaves the version ready, and the scrub reaches it.
 */
export const RECHECK_IMAGE_VERSION_JOB = defineJobContract({ name: "recheck-image-version", schema: recheckImageVersionPayloadSchema, retryable: false });

/**
 * Every ten minutes: re-hash stored versions, oldest-checked first, at a bounded read rate
 * (KILN_SCRUB_MIB_PER_SECOND, KILN_SCRUB_INTERVAL_HOURS); a blob gone bad fails its version.
 * Not retried: the next run carries on where this one stopped.
 */
export const SCRUB_IMAGE_VERSIONS_JOB = defineJobContract({ name: "scrub-image-versions", schema: emptyJobSchema, cron: "*/10 * * * *", retryable: false });

/**
 * Every ten minutes, and once when the worker starts (./housekeeping.ts): uploads whose bytes
 * all arrived but whose finish step never ran (a crash in between) are finished; abandoned
 * uploads past their expiry lose their bytes and their version; versions whose verification
 * job was lost are verified now.
 */
export const IMAGE_UPLOADS_HOUSEKEEPING_JOB = defineJobContract({ name: "image-uploads-housekeeping", schema: emptyJobSchema, cron: "*/10 * * * *", runAtStart: true, retryable: true });
