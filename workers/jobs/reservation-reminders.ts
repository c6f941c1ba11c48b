import { RESERVATION_REMINDERS_JOB } from "@/lib/calendar/jobs";
import { sendReservationReminders } from "@/lib/calendar/reminders";
import { defineJob } from "@/lib/jobs/definition";

export const name = RESERVATION_REMINDERS_JOB.name;
export const schema = RESERVATION_REMINDERS_JOB.schema;

export const reservationRemindersJob = defineJob({ ...RESERVATION_REMINDERS_JOB, handler: (db) => sendReservationReminders(db) });
