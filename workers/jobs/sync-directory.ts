import { syncDirectory } from "@/lib/directory/sync";
import { directoryConfigFromEnv } from "@/lib/directory/config";
import { SYNC_DIRECTORY_JOB } from "@/lib/directory/jobs";
import { getEnv } from "@/lib/env";
import { defineJob } from "@/lib/jobs/definition";

export const name = SYNC_DIRECTORY_JOB.name;
export const schema = SYNC_DIRECTORY_JOB.schema;

export const syncDirectoryJob = defineJob({
  ...SYNC_DIRECTORY_JOB,
  handler: async (db) => {
    const config = directoryConfigFromEnv(getEnv());
    return config ? syncDirectory(db, config) : { skipped: "no directory configured (KILN_DIRECTORY_URL)" };
  },
});
