// What happens to a host between the end of its lease (releasing) and its return to the pool
// (available): any run of the last holder is cancelled; a host Kiln can power is wiped (a
// wipe_disk run that ends with the machine off — switched off by Kiln where the driver can,
// by the ramdisk itself where it cannot, as with Wake-on-LAN) and only a wiped host becomes
// available; a host without remote power (manual) cannot be wiped unattended and goes
// straight back. A wipe on a machine Kiln cannot restart (Wake-on-LAN, manual) waits, host
// still releasing, until someone restarts it or shuts it down (./release-wait.ts).
// KILN_WIPE_ON_RELEASE=always also wipes manual hosts (someone must switch them on);
// =never skips the wipe and only switches remote-powered hosts off.
import { getActiveDeployment } from "@/db/queries/boot";
import { getHostRowsByIds, listHostRows } from "@/db/queries/hosts";
import type { HostRow } from "@/db/schema";
import type { Db } from "../db";
import { finishDeployment, queuePowerOff, runFollowups, withDeployment, type Followup } from "../deployments/engine";
import { startReleaseWipe } from "../deployments/commands";
import { transitionHostStates } from "../hosts/transition";
import { getLogger } from "../log";
import { canPowerOff } from "../power/drivers";
import { runPower } from "../power/power";
import { PowerError } from "../power/types";
import { listReleaseWaits, needsWipe } from "../hosts/release-wait";
import { isCaptureToWaitFor } from "./end-stage";

export { needsWipe };

/** releasing → (wipe →) available. Safe to call again: a host whose wipe is under way is left alone. */
export async function completeHostReleases(db: Db, hostIds: string[], opts: { leaseId?: string; now?: Date } = {}): Promise<number> {
  const releasing = (await getHostRowsByIds(db, hostIds)).filter((h) => h.state === "releasing");
  let returned = 0;
  for (const host of releasing) {
    const active = await getActiveDeployment(db, host.id);
    if (active?.origin === "release") continue;
    // A capture of the disk the holder started (before the end, or in grace) is what the
    // staged end waits for: power-off and wipe come after it (bounded: ./end-stage.ts).
    if (active && (await isCaptureToWaitFor(db, active, opts.now ?? new Date()))) continue;
    if (active) {
      // The last holder's run must not go on writing to a machine that is no longer theirs.
      await withDeployment(db, active.id, (ctx) => finishDeployment(ctx, "cancelled", "the lease ended"), opts.now);
    }
    if (needsWipe(host)) {
      try {
        await startReleaseWipe(db, host, opts.leaseId ?? null);
        continue;
      } catch (e) {
        // Another caller started it a moment ago (the unique index refused ours): fine.
        getLogger("leases").warn({ hostId: host.id, err: e instanceof Error ? e.message : e }, "release wipe not started");
        continue;
      }
    }
    const followups: Followup[] = [];
    // A driver that cannot switch the machine off (Wake-on-LAN, manual) is not asked to.
    if (canPowerOff(host.powerDriver)) queuePowerOff({ followups }, host.id, "lease ended");
    const changed = await transitionHostStates(db, { hostIds: [host.id], to: "available", actorUserId: null, leaseId: opts.leaseId ?? null, at: opts.now, message: `released and ready (not wiped: ${host.powerDriver === "manual" ? "no remote power control" : "KILN_WIPE_ON_RELEASE=never"})` });
    await runFollowups(followups);
    returned += changed.length;
  }
  return returned;
}

/** Safety net for the worker: hosts left in releasing (say, the web process died mid-release, or a wipe was cancelled). */
export async function completeStuckReleases(db: Db): Promise<number> {
  const { rows } = await listHostRows(db, { state: "releasing", sort: "name", order: "asc", limit: 500, offset: 0 });
  return completeHostReleases(db, rows.map((r) => r.host.id));
}


/**
 * A release wipe on a Wake-on-LAN host waits for the machine to network-boot; a machine shut
 * down after the lease's end (the host page asks for a restart or a shutdown) is woken by the
 * next magic packet, so the worker sends one again every WAKE_AGAIN_MINUTES while it waits.
 * Waking a machine that is on does nothing, so repeating it is harmless.
 */
export async function wakeWaitingReleases(db: Db): Promise<{ woken: number; failed: number }> {
  const { rows } = await listHostRows(db, { state: "releasing", sort: "name", order: "asc", limit: 500, offset: 0 });
  const wol = rows.map((r) => r.host).filter((h) => h.powerDriver === "wol");
  const waits = await listReleaseWaits(db, wol);
  let woken = 0;
  let failed = 0;
  for (const host of wol) {
    // Only while the boot step waits: during the power-on step the wipe job is sending its own.
    if (!waits.get(host.id)?.until) continue;
    try {
      await runPower(db, host, "on");
      woken++;
    } catch (e) {
      failed++;
      getLogger("leases").warn({ hostId: host.id, err: e instanceof PowerError ? e.message : e }, "could not wake a host whose release wipe waits");
    }
  }
  return { woken, failed };
}
