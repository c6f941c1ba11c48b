// The extra disks' job contract (lib/jobs/definition.ts says why contracts live in lib/).
import { defineReconcileJobContract } from "../jobs/definition";

/**
 * Makes extra disks' files and NBD exports match their rows (./reconcile.ts): a disk whose row
 * was committed just before a crash is still made, and a released lease's disks are still wiped.
 */
export const RECONCILE_LEASE_DISKS_JOB = defineReconcileJobContract("reconcile-lease-disks");
