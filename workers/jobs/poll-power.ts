import { defineJob } from "@/lib/jobs/definition";
import { POLL_POWER_JOB } from "@/lib/power/jobs";
import { pollPowerStates } from "@/lib/power/poll";

export const name = POLL_POWER_JOB.name;
export const schema = POLL_POWER_JOB.schema;

export const pollPowerJob = defineJob({ ...POLL_POWER_JOB, handler: (db) => pollPowerStates(db) });
