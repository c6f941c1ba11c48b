// The worker's steps of a run that installs an OS unattended through the holder's templates: switching the machine on (and off), with
// retries. The machine does the rest and reports over HTTP (lib/deployments/agent.ts).
import { INSTALL_OS_JOB } from "@/lib/deployments/jobs";
import { runWorkerSteps } from "@/lib/deployments/worker";
import { defineJob } from "@/lib/jobs/definition";

export const name = INSTALL_OS_JOB.name;
export const schema = INSTALL_OS_JOB.schema;

// Retried after a worker crash (heartbeat): the handler re-reads the run and only acts on a
// power step that is still running, so a second run cannot repeat a finished step.
export const installOsJob = defineJob({ name, schema, retryable: true, heartbeatSeconds: 10, handler: (db, data) => runWorkerSteps(db, data.deploymentId, "install") });
