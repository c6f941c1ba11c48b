// The reason a run fails names what did not happen ("no boot request from the machine within
// 5 minutes — check PXE/DHCP"), from the step whose deadline passed.
import { DEPLOYMENT_WATCHDOG_JOB } from "@/lib/deployments/jobs";
import { checkDeadlines } from "@/lib/deployments/worker";
import { defineJob } from "@/lib/jobs/definition";

export const name = DEPLOYMENT_WATCHDOG_JOB.name;
export const schema = DEPLOYMENT_WATCHDOG_JOB.schema;

export const deploymentWatchdogJob = defineJob({ ...DEPLOYMENT_WATCHDOG_JOB, handler: (db, data) => checkDeadlines(db, { deploymentId: data.deploymentId }) });
