import type { JobDefinition } from "@/lib/jobs/definition";
import { expireLeasesJob } from "./expire-leases";
import { finishReleasesJob } from "./finish-releases";
import { leaseRemindersJob } from "./lease-reminders";
import { purgeExpiredJob } from "./purge-expired";

/** Every job the worker runs. */
export const JOBS: JobDefinition[] = [purgeExpiredJob, expireLeasesJob, leaseRemindersJob, finishReleasesJob];
