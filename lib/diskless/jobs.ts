// The diskless roots' job contract (lib/jobs/definition.ts says why contracts live in lib/).
import { defineReconcileJobContract } from "../jobs/definition";

/**
 * Makes the NBD exports of diskless roots match their rows (./diskless.ts syncDisklessExports):
 * a root committed just before a crash is exported, a root whose lease has ended is released
 * (overlay deleted), and a restarted worker serves every live root again on its former port.
 */
export const SYNC_DISKLESS_EXPORTS_JOB = defineReconcileJobContract("sync-diskless-exports");
