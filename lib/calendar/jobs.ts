// The calendar's job contract (lib/jobs/definition.ts says why contracts live in lib/).
import { defineJobContract, emptyJobSchema } from "../jobs/definition";

/** Every minute: mail holders whose reservations start within a configured offset (KILN_RESERVATION_REMINDER_HOURS; ./reminders.ts). */
export const RESERVATION_REMINDERS_JOB = defineJobContract({ name: "reservation-reminders", schema: emptyJobSchema, cron: "* * * * *", retryable: true });
