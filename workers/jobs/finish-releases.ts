// Every five minutes: hosts left in `releasing` by an interrupted release become available,
// and Wake-on-LAN hosts whose release wipe waits for a network boot get another magic packet
// (a machine shut down since the lease's end wakes and is wiped).
import { z } from "zod";
import { defineJob } from "@/lib/jobs/definition";
import { completeStuckReleases, wakeWaitingReleases } from "@/lib/leases/release";

export const name = "finish-releases";
export const schema = z.object({}).strict();

export const finishReleasesJob = defineJob({
  name,
  schema,
  cron: "*/5 * * * *",
  retryable: true,
  handler: async (db) => ({ completed: await completeStuckReleases(db), ...(await wakeWaitingReleases(db)) }),
});
