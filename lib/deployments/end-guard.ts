// What a lease's end forbids of a new run (lib/leases/end-stage.ts moves the lease through its
// end; this module only reads where it is). Here, below lib/leases, because every run start asks.
import { getLeaseRow } from "@/db/queries/leases";
import { isoMinute } from "../clock";
import type { DbOrTx } from "../db";
import { AppError } from "../errors";

/**
 * During grace (or capturing, before the lease has ended) the disk is kept only to be
 * captured: no new deploy, install or wipe may replace it. Extending the lease ends the grace.
 */
export async function assertDeploymentAllowedAtEnd(db: DbOrTx, leaseId: string, action: string): Promise<void> {
  if (action === "capture_disk") return;
  const lease = await getLeaseRow(db, leaseId);
  if (!lease || lease.state !== "active" || (lease.endStage !== "grace" && lease.endStage !== "capturing")) return;
  const until = lease.graceEndsAt ? ` until ${isoMinute(lease.graceEndsAt)} UTC` : "";
  throw new AppError(
    "conflict",
    `This lease ended at ${isoMinute(lease.endsAt)} UTC and is in its grace period${until}: you can capture the disk into an image or release the machines now, but not deploy, install or wipe. Extend the lease to use the machines again.`,
  );
}
