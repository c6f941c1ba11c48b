// Every ten minutes: re-hash stored image versions, oldest-checked first, at a bounded read rate
// (KILN_SCRUB_MIB_PER_SECOND, KILN_SCRUB_INTERVAL_HOURS); a blob gone bad fails its version.
import { z } from "zod";
import { defineJob } from "@/lib/jobs/definition";
import { scrubImageVersions } from "@/lib/images/scrub";

export const name = "scrub-image-versions";
export const schema = z.object({}).strict();

// One run starts no new version after nine minutes, so scheduled runs do not pile up.
export const scrubImageVersionsJob = defineJob({ name, schema, cron: "*/10 * * * *", retryable: false, handler: (db) => scrubImageVersions(db, { budgetMs: 9 * 60_000 }) });
