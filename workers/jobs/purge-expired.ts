// Deletes expired sessions, spent one-time links and old rate-limit windows.
import { z } from "zod";
import { purgeExpiredAuthRows } from "@/lib/auth/housekeeping";
import { defineJob } from "@/lib/jobs/definition";

export const name = "purge-expired";
export const schema = z.object({}).strict();

export const purgeExpiredJob = defineJob({
  name,
  schema,
  cron: "17 * * * *",
  retryable: true,
  handler: (db) => purgeExpiredAuthRows(db),
});
