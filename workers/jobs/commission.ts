// The worker's steps of a commissioning run (docs/commissioning.md): switching the machine on
// from the network and off again when its hardware is reported, with retries. The machine does
// the rest and reports over HTTP (lib/deployments/agent.ts).
import { COMMISSION_JOB } from "@/lib/deployments/jobs";
import { runWorkerSteps } from "@/lib/deployments/worker";
import { defineJob } from "@/lib/jobs/definition";

export const name = COMMISSION_JOB.name;
export const schema = COMMISSION_JOB.schema;

// Retried after a worker crash (heartbeat): the handler re-reads the run and only acts on a
// power step that is still running, so a second run cannot repeat a finished step.
export const commissionJob = defineJob({ name, schema, retryable: true, heartbeatSeconds: 10, handler: (db, data) => runWorkerSteps(db, data.deploymentId, "commission") });
