// A host is retried until it has had the group's max_attempts runs (lib/deployments/groups.ts).
import { RETRY_GROUP_HOST_JOB } from "@/lib/deployments/jobs";
import { retryDueGroupDeployments } from "@/lib/deployments/groups";
import { defineJob } from "@/lib/jobs/definition";

export const name = RETRY_GROUP_HOST_JOB.name;
export const schema = RETRY_GROUP_HOST_JOB.schema;

export const retryGroupHostJob = defineJob({ ...RETRY_GROUP_HOST_JOB, handler: (db, data) => retryDueGroupDeployments(db, { deploymentId: data.deploymentId }) });
