// After an upload's last byte: hash, detect the format, compare the client's checksum,
// convert qcow2 to raw, and mark the version ready or failed. Enqueued by the upload hook.
import { defineJob } from "@/lib/jobs/definition";
import { verifyImageVersion } from "@/lib/images/verify";
import { verifyImageVersionPayloadSchema } from "@/lib/validation/images";

export const name = "verify-image-version";
export const schema = verifyImageVersionPayloadSchema;

// Not retried by pg-boss: a failure is recorded on the version, and a crash leaves it in
// `verifying`, which the housekeeping job picks up again.
// Polled every half second: the uploader watches "verifying…" turn into "ready".
export const verifyImageVersionJob = defineJob({ name, schema, retryable: false, pollingIntervalSeconds: 0.5, handler: (db, data) => verifyImageVersion(db, data) });
