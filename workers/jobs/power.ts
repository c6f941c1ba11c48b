// A power action on a host in the background: switching it off after a cancelled run or a
// lease's end. Retried with backoff: switching a machine off twice is harmless.
import { POWER_JOB } from "@/lib/deployments/jobs";
import { runPowerJob } from "@/lib/deployments/worker";
import { defineJob } from "@/lib/jobs/definition";

export const name = POWER_JOB.name;
export const schema = POWER_JOB.schema;

export const powerJob = defineJob({ name, schema, retryable: true, handler: (db, data) => runPowerJob(db, data) });
