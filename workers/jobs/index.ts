import type { JobDefinition } from "@/lib/jobs/definition";
import { expireLeasesJob } from "./expire-leases";
import { finishReleasesJob } from "./finish-releases";
import { leaseRemindersJob } from "./lease-reminders";
import { imageUploadsHousekeepingJob } from "./image-uploads-housekeeping";
import { purgeExpiredJob } from "./purge-expired";
import { verifyImageVersionJob } from "./verify-image-version";

/** Every job the worker runs. */
export const JOBS: JobDefinition[] = [purgeExpiredJob, expireLeasesJob, leaseRemindersJob, finishReleasesJob, verifyImageVersionJob, imageUploadsHousekeepingJob];
