// Makes the NBD exports of diskless roots match their rows (lib/diskless/diskless.ts): queued
// after each change, and every minute and at worker start, so a root committed just before a
// crash is exported, a root whose lease has ended is released (overlay deleted), and a restarted
// worker serves every live root again on its former port. The exports live in this process.
import { z } from "zod";
import { syncDisklessExports } from "@/lib/diskless/diskless";
import { defineJob } from "@/lib/jobs/definition";

export const name = "sync-diskless-exports";
export const schema = z.object({}).strict();

export const syncDisklessExportsJob = defineJob({
  name,
  schema,
  cron: "* * * * *",
  runAtStart: true,
  retryable: true,
  pollingIntervalSeconds: 1,
  handler: async (db) => {
    await syncDisklessExports(db);
  },
});
