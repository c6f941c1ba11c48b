// Every minute: mail holders whose reservations start within a configured offset (KILN_RESERVATION_REMINDER_HOURS).
import { z } from "zod";
import { defineJob } from "@/lib/jobs/definition";
import { sendReservationReminders } from "@/lib/calendar/reminders";

export const name = "reservation-reminders";
export const schema = z.object({}).strict();

export const reservationRemindersJob = defineJob({ name, schema, cron: "* * * * *", retryable: true, handler: (db) => sendReservationReminders(db) });
