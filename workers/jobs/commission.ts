// A commissioning run (docs/commissioning.md): the machine is switched on from the network, and off
// again when its hardware is reported.
import { COMMISSION_JOB } from "@/lib/deployments/jobs";
import { runWorkerSteps } from "@/lib/deployments/worker";
import { defineJob } from "@/lib/jobs/definition";

export const name = COMMISSION_JOB.name;
export const schema = COMMISSION_JOB.schema;

export const commissionJob = defineJob({ ...COMMISSION_JOB, handler: (db, data) => runWorkerSteps(db, data.deploymentId, "commission") });
