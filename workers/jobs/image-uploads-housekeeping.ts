// Every ten minutes, and once when the worker starts: uploads whose bytes all arrived but whose
// finish step never ran (a crash in between) are finished; abandoned uploads past their expiry
// lose their bytes and their version; versions whose verification job was lost are verified now.
import { z } from "zod";
import { defineJob } from "@/lib/jobs/definition";
import { imageUploadsHousekeeping } from "@/lib/images/housekeeping";

export const name = "image-uploads-housekeeping";
export const schema = z.object({}).strict();

export const imageUploadsHousekeepingJob = defineJob({ name, schema, cron: "*/10 * * * *", runAtStart: true, retryable: true, handler: (db) => imageUploadsHousekeeping(db) });
