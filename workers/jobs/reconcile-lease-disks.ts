// The exports live in this process (lib/extra-disks/exporter.ts); a restarted worker serves its
// live disks again on their former ports.
import { getDiskExporter } from "@/lib/extra-disks/exporter";
import { RECONCILE_LEASE_DISKS_JOB } from "@/lib/extra-disks/jobs";
import { reconcileLeaseDisks } from "@/lib/extra-disks/reconcile";
import { defineJob } from "@/lib/jobs/definition";

export const name = RECONCILE_LEASE_DISKS_JOB.name;
export const schema = RECONCILE_LEASE_DISKS_JOB.schema;

export const reconcileLeaseDisksJob = defineJob({ ...RECONCILE_LEASE_DISKS_JOB, handler: (db) => reconcileLeaseDisks(db, getDiskExporter()) });
