// A run that installs an OS unattended through the holder's templates.
import { INSTALL_OS_JOB } from "@/lib/deployments/jobs";
import { runWorkerSteps } from "@/lib/deployments/worker";
import { defineJob } from "@/lib/jobs/definition";

export const name = INSTALL_OS_JOB.name;
export const schema = INSTALL_OS_JOB.schema;

export const installOsJob = defineJob({ ...INSTALL_OS_JOB, handler: (db, data) => runWorkerSteps(db, data.deploymentId, "install") });
