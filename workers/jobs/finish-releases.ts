import { defineJob } from "@/lib/jobs/definition";
import { FINISH_RELEASES_JOB } from "@/lib/leases/jobs";
import { completeStuckReleases, wakeWaitingReleases } from "@/lib/leases/release";

export const name = FINISH_RELEASES_JOB.name;
export const schema = FINISH_RELEASES_JOB.schema;

export const finishReleasesJob = defineJob({
  ...FINISH_RELEASES_JOB,
  handler: async (db) => ({ completed: await completeStuckReleases(db), ...(await wakeWaitingReleases(db)) }),
});
