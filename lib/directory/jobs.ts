// The directory's job contract (lib/jobs/definition.ts says why contracts live in lib/).
import { defineReconcileJobContract } from "../jobs/definition";

/** Writes the directory entries Kiln manages (./sync.ts); queued after each account change (./mark.ts). */
export const SYNC_DIRECTORY_JOB = defineReconcileJobContract("sync-directory");
