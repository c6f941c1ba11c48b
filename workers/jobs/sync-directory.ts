// Writes the directory entries Kiln manages (lib/directory/sync.ts). Queued after each account
// change, and every minute and at worker start so a change whose enqueue was lost (a crash
// right after commit, the worker down) is still written.
import { syncDirectory } from "@/lib/directory/sync";
import { directoryConfigFromEnv } from "@/lib/directory/config";
import { getEnv } from "@/lib/env";
import { defineReconcileJob, reconcileJobSchema } from "@/lib/jobs/definition";

export const name = "sync-directory";
export const schema = reconcileJobSchema;

export const syncDirectoryJob = defineReconcileJob(name, async (db) => {
  const config = directoryConfigFromEnv(getEnv());
  return config ? syncDirectory(db, config) : { skipped: "no directory configured (KILN_DIRECTORY_URL)" };
});
