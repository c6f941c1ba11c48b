// Every minute: end the leases whose time is up (hosts go to releasing, then available).
import { z } from "zod";
import { defineJob } from "@/lib/jobs/definition";
import { expireDueLeases } from "@/lib/leases/expiry";

export const name = "expire-leases";
export const schema = z.object({}).strict();

export const expireLeasesJob = defineJob({ name, schema, cron: "* * * * *", retryable: true, handler: (db) => expireDueLeases(db) });
