// Makes extra disks' files and NBD exports match their rows (lib/extra-disks/reconcile.ts):
// queued after each change, and every minute and at worker start, so a disk whose row was
// committed just before a crash is still made, and a released lease's disks are still wiped.
// The exports live in this process (lib/extra-disks/exporter.ts); a restarted worker serves
// its live disks again on their former ports.
import { getDiskExporter } from "@/lib/extra-disks/exporter";
import { reconcileLeaseDisks } from "@/lib/extra-disks/reconcile";
import { defineReconcileJob, reconcileJobSchema } from "@/lib/jobs/definition";

export const name = "reconcile-lease-disks";
export const schema = reconcileJobSchema;

export const reconcileLeaseDisksJob = defineReconcileJob(name, (db) => reconcileLeaseDisks(db, getDiskExporter()));
