import { POWER_JOB } from "@/lib/deployments/jobs";
import { runPowerJob } from "@/lib/deployments/worker";
import { defineJob } from "@/lib/jobs/definition";

export const name = POWER_JOB.name;
export const schema = POWER_JOB.schema;

export const powerJob = defineJob({ ...POWER_JOB, handler: (db, data) => runPowerJob(db, data) });
