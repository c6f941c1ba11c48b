// Retries a deployment group's failed run for its host alone, until the host has had the group's
// max_attempts runs (lib/deployments/groups.ts). Queued by finishRun when a group run fails; the
// minutely sweep (no deploymentId) catches a failure whose job was lost.
import { RETRY_GROUP_HOST_JOB } from "@/lib/deployments/jobs";
import { retryDueGroupRuns } from "@/lib/deployments/groups";
import { defineJob } from "@/lib/jobs/definition";

export const name = RETRY_GROUP_HOST_JOB.name;
export const schema = RETRY_GROUP_HOST_JOB.schema;

export const retryGroupHostJob = defineJob({ name, schema, cron: "* * * * *", retryable: true, handler: (db, data) => retryDueGroupRuns(db, { deploymentId: data.deploymentId }) });
