import type { JobDefinition } from "@/lib/jobs/definition";
import { expireLeasesJob } from "./expire-leases";
import { advanceReservationsJob } from "./advance-reservations";
import { finishReleasesJob } from "./finish-releases";
import { leaseRemindersJob } from "./lease-reminders";
import { reservationRemindersJob } from "./reservation-reminders";
import { imageUploadsHousekeepingJob } from "./image-uploads-housekeeping";
import { purgeExpiredJob } from "./purge-expired";
import { verifyImageVersionJob } from "./verify-image-version";
import { recheckImageVersionJob } from "./recheck-image-version";
import { scrubImageVersionsJob } from "./scrub-image-versions";
import { captureDiskJob } from "./capture-disk";
import { commissionJob } from "./commission";
import { deployImageJob } from "./deploy-image";
import { deploymentWatchdogJob } from "./deployment-watchdog";
import { installOsJob } from "./install-os";
import { pollPowerJob } from "./poll-power";
import { powerJob } from "./power";
import { wipeDiskJob } from "./wipe-disk";
import { retryGroupHostJob } from "./retry-group-host";
import { writeVpnGatewayJob } from "./write-vpn-gateway";
import { syncDirectoryJob } from "./sync-directory";
import { reconcileLeaseDisksJob } from "./reconcile-lease-disks";
import { syncDisklessExportsJob } from "./sync-diskless-exports";

/** Every job the worker runs. */
export const JOBS: JobDefinition[] = [
  purgeExpiredJob,
  expireLeasesJob,
  advanceReservationsJob,
  leaseRemindersJob,
  reservationRemindersJob,
  finishReleasesJob,
  verifyImageVersionJob,
  recheckImageVersionJob,
  scrubImageVersionsJob,
  imageUploadsHousekeepingJob,
  deployImageJob,
  installOsJob,
  captureDiskJob,
  wipeDiskJob,
  commissionJob,
  powerJob,
  pollPowerJob,
  deploymentWatchdogJob,
  retryGroupHostJob,
  writeVpnGatewayJob,
  syncDirectoryJob,
  reconcileLeaseDisksJob,
  syncDisklessExportsJob,
];
