// The exports live in this process (exportsOfProcess in lib/diskless/diskless.ts).
import { syncDisklessExports } from "@/lib/diskless/diskless";
import { SYNC_DISKLESS_EXPORTS_JOB } from "@/lib/diskless/jobs";
import { defineJob } from "@/lib/jobs/definition";

export const name = SYNC_DISKLESS_EXPORTS_JOB.name;
export const schema = SYNC_DISKLESS_EXPORTS_JOB.schema;

export const syncDisklessExportsJob = defineJob({ ...SYNC_DISKLESS_EXPORTS_JOB, handler: (db) => syncDisklessExports(db) });
