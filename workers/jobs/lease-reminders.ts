// Every minute: mail holders whose leases end within a configured offset (KILN_LEASE_REMINDER_HOURS).
import { z } from "zod";
import { defineJob } from "@/lib/jobs/definition";
import { sendLeaseReminders } from "@/lib/leases/expiry";

export const name = "lease-reminders";
export const schema = z.object({}).strict();

export const leaseRemindersJob = defineJob({ name, schema, cron: "* * * * *", retryable: true, handler: (db) => sendLeaseReminders(db) });
