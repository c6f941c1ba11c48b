// Writes the directory entries Kiln manages (lib/directory/sync.ts). Queued after each account
// change, and every minute and at worker start so a change whose enqueue was lost (a crash
// right after commit, the worker down) is still written.
import { z } from "zod";
import { syncDirectory } from "@/lib/directory/sync";
import { directoryConfigFromEnv } from "@/lib/directory/config";
import { getEnv } from "@/lib/env";
import { defineJob } from "@/lib/jobs/definition";

export const name = "sync-directory";
export const schema = z.object({}).strict();

export const syncDirectoryJob = defineJob({
  name,
  schema,
  cron: "* * * * *",
  runAtStart: true,
  retryable: true,
  pollingIntervalSeconds: 1,
  handler: async (db) => {
    const config = directoryConfigFromEnv(getEnv());
    return config ? syncDirectory(db, config) : { skipped: "no directory configured (KILN_DIRECTORY_URL)" };
  },
});
