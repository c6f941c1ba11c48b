// Makes extra disks' files and NBD exports match their rows (lib/extra-disks/reconcile.ts):
// queued after each change, and every minute and at worker start, so a disk whose row was
// committed just before a crash is still made, and a released lease's disks are still wiped.
// The exports live in this process (lib/extra-disks/exporter.ts); a restarted worker serves
// its live disks again on their former ports.
import { z } from "zod";
import { getDiskExporter } from "@/lib/extra-disks/exporter";
import { reconcileLeaseDisks } from "@/lib/extra-disks/reconcile";
import { defineJob } from "@/lib/jobs/definition";

export const name = "reconcile-lease-disks";
export const schema = z.object({}).strict();

export const reconcileLeaseDisksJob = defineJob({
  name,
  schema,
  cron: "* * * * *",
  runAtStart: true,
  retryable: true,
  pollingIntervalSeconds: 1,
  handler: async (db) => reconcileLeaseDisks(db, getDiskExporter()),
});
