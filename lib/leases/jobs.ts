// The leases' job contracts (lib/jobs/definition.ts says why contracts live in lib/).
import { defineJobContract, emptyJobSchema } from "../jobs/definition";

/** Every minute: end the leases whose time is up (hosts go to releasing, then available; ./expiry.ts). */
export const EXPIRE_LEASES_JOB = defineJobContract({ name: "expire-leases", schema: emptyJobSchema, cron: "* * * * *", retryable: true });

/**
 * Every five minutes (./release.ts): hosts left in `releasing` by an interrupted release become
 * available, and Wake-on-LAN hosts whose release wipe waits for a network boot get another
 * magic packet (a machine shut down since the lease's end wakes and is wiped).
 */
export const FINISH_RELEASES_JOB = defineJobContract({ name: "finish-releases", schema: emptyJobSchema, cron: "*/5 * * * *", retryable: true });

/** Every minute: mail holders whose leases end within a configured offset (KILN_LEASE_REMINDER_HOURS; ./expiry.ts). */
export const LEASE_REMINDERS_JOB = defineJobContract({ name: "lease-reminders", schema: emptyJobSchema, cron: "* * * * *", retryable: true });
