// The reservations' job contract (lib/jobs/definition.ts says why contracts live in lib/).
import { defineJobContract, emptyJobSchema } from "../jobs/definition";

/**
 * Every minute, reservations move on (./transitions.ts): failed hosts re-chosen before the start,
 * due ones become leases at prepareFrom, waiting hosts join, "ready at the start" checked at
 * startsAt, ended ones closed.
 */
export const ADVANCE_RESERVATIONS_JOB = defineJobContract({ name: "advance-reservations", schema: emptyJobSchema, cron: "* * * * *", retryable: true });
