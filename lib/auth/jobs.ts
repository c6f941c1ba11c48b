// Sign-in housekeeping's job contract (lib/jobs/definition.ts says why contracts live in lib/).
import { defineJobContract, emptyJobSchema } from "../jobs/definition";

/** Hourly: delete expired sessions, spent one-time links and old rate-limit windows (./housekeeping.ts). */
export const PURGE_EXPIRED_JOB = defineJobContract({ name: "purge-expired", schema: emptyJobSchema, cron: "17 * * * *", retryable: true });
