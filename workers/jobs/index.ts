import type { JobDefinition } from "@/lib/jobs/definition";
import { purgeExpiredJob } from "./purge-expired";

/** Every job the worker runs. */
export const JOBS: JobDefinition[] = [purgeExpiredJob];
