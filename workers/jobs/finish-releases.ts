// Every five minutes: hosts left in `releasing` by an interrupted release become available.
import { z } from "zod";
import { defineJob } from "@/lib/jobs/definition";
import { completeStuckReleases } from "@/lib/leases/release";

export const name = "finish-releases";
export const schema = z.object({}).strict();

export const finishReleasesJob = defineJob({ name, schema, cron: "*/5 * * * *", retryable: true, handler: (db) => completeStuckReleases(db) });
