// The power poll's job contract (lib/jobs/definition.ts says why contracts live in lib/).
import { getEnv } from "../env";
import { defineJobContract, emptyJobSchema } from "../jobs/definition";

/**
 * Every KILN_POWER_POLL_SECONDS: read each host's power state through its driver into host_power
 * (the badge on host pages and lists; ./poll.ts). Safe to run twice, and not retried: a poll
 * that failed is repeated by the next one, sooner than any retry would be useful.
 */
export const POLL_POWER_JOB = defineJobContract({ name: "poll-power", schema: emptyJobSchema, retryable: false, everySeconds: () => getEnv().KILN_POWER_POLL_SECONDS });
