import { defineJob } from "@/lib/jobs/definition";
import { sendLeaseReminders } from "@/lib/leases/expiry";
import { LEASE_REMINDERS_JOB } from "@/lib/leases/jobs";

export const name = LEASE_REMINDERS_JOB.name;
export const schema = LEASE_REMINDERS_JOB.schema;

export const leaseRemindersJob = defineJob({ ...LEASE_REMINDERS_JOB, handler: (db) => sendLeaseReminders(db) });
