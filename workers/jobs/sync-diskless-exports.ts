// Makes the NBD exports of diskless roots match their rows (lib/diskless/diskless.ts): queued
// after each change, and every minute and at worker start, so a root committed just before a
// crash is exported, a root whose lease has ended is released (overlay deleted), and a restarted
// worker serves every live root again on its former port. The exports live in this process.
// (A closure, not the function itself: lib/diskless imports this file, so the name is read at call time.)
import { syncDisklessExports } from "@/lib/diskless/diskless";
import { defineReconcileJob, reconcileJobSchema } from "@/lib/jobs/definition";

export const name = "sync-diskless-exports";
export const schema = reconcileJobSchema;

export const syncDisklessExportsJob = defineReconcileJob(name, (db) => syncDisklessExports(db));
