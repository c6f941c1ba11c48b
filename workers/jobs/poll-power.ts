// Every KILN_POWER_POLL_SECONDS: read each host's power state through its driver into host_power
// (the badge on host pages and lists). Safe to run twice; a run that fails is simply the next one.
import { z } from "zod";
import { getEnv } from "@/lib/env";
import { defineJob } from "@/lib/jobs/definition";
import { pollPowerStates } from "@/lib/power/poll";

export const name = "poll-power";
export const schema = z.object({}).strict();

export const pollPowerJob = defineJob({
  name,
  schema,
  // A poll that failed is repeated by the next one, sooner than any retry would be useful.
  retryable: false,
  everySeconds: () => getEnv().KILN_POWER_POLL_SECONDS,
  handler: (db) => pollPowerStates(db),
});
