import { defineJob } from "@/lib/jobs/definition";
import { expireDueLeases } from "@/lib/leases/expiry";
import { EXPIRE_LEASES_JOB } from "@/lib/leases/jobs";

export const name = EXPIRE_LEASES_JOB.name;
export const schema = EXPIRE_LEASES_JOB.schema;

export const expireLeasesJob = defineJob({ ...EXPIRE_LEASES_JOB, handler: (db) => expireDueLeases(db) });
