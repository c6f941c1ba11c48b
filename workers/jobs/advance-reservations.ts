// Every minute: reservations move on — failed hosts re-chosen before the start, due ones become
// leases at prepareFrom, waiting hosts join, "ready at the start" checked at startsAt, ended ones closed.
import { z } from "zod";
import { defineJob } from "@/lib/jobs/definition";
import { advanceReservations } from "@/lib/reservations/transitions";

export const name = "advance-reservations";
export const schema = z.object({}).strict();

export const advanceReservationsJob = defineJob({ name, schema, cron: "* * * * *", retryable: true, handler: (db) => advanceReservations(db) });
