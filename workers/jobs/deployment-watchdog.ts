// Fails runs whose current step is past its deadline, with that step's reason ("no boot
// request from the machine within 5 minutes — check PXE/DHCP"). Each step with a deadline
// enqueues a check for its own deadline (with deploymentId); the minutely sweep is the
// safety net for a check that was lost.
import { DEPLOYMENT_WATCHDOG_JOB } from "@/lib/deployments/jobs";
import { checkDeadlines } from "@/lib/deployments/worker";
import { defineJob } from "@/lib/jobs/definition";

export const name = DEPLOYMENT_WATCHDOG_JOB.name;
export const schema = DEPLOYMENT_WATCHDOG_JOB.schema;

export const deploymentWatchdogJob = defineJob({ name, schema, cron: "* * * * *", retryable: true, handler: (db, data) => checkDeadlines(db, { deploymentId: data.deploymentId }) });
