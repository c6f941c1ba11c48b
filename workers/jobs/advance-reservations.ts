import { defineJob } from "@/lib/jobs/definition";
import { ADVANCE_RESERVATIONS_JOB } from "@/lib/reservations/jobs";
import { advanceReservations } from "@/lib/reservations/transitions";

export const name = ADVANCE_RESERVATIONS_JOB.name;
export const schema = ADVANCE_RESERVATIONS_JOB.schema;

export const advanceReservationsJob = defineJob({ ...ADVANCE_RESERVATIONS_JOB, handler: (db) => advanceReservations(db) });
