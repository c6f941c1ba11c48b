import { purgeExpiredAuthRows } from "@/lib/auth/housekeeping";
import { PURGE_EXPIRED_JOB } from "@/lib/auth/jobs";
import { defineJob } from "@/lib/jobs/definition";

export const name = PURGE_EXPIRED_JOB.name;
export const schema = PURGE_EXPIRED_JOB.schema;

export const purgeExpiredJob = defineJob({ ...PURGE_EXPIRED_JOB, handler: (db) => purgeExpiredAuthRows(db) });
