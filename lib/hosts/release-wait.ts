// A wipe at a lease's end needs the machine to network-boot. Kiln restarts a machine itself
// where its power driver can (IPMI, QEMU, plugins); Wake-on-LAN only wakes a machine that is
// off, and manual power only asks a person, so a machine the holder left running stays in its
// OS until someone restarts it (or shuts it down: the magic packet then wakes it). Meanwhile
// the host stays `releasing` — never leased to anyone with the old disk — and every view of it
// says what to do, in these words. KILN_RELEASE_BOOT_WAIT_HOURS bounds the wait.
import { getActiveDeployment } from "@/db/queries/boot";
import { listSteps } from "@/db/queries/deployments";
import type { HostRow } from "@/db/schema";
import type { DbOrTx } from "../db";
import { getEnv } from "../env";
import { cannotRestartReason } from "../power/drivers";

/** How often the worker re-sends Wake-on-LAN while a release wipe waits (finish-releases job). */
export const WAKE_AGAIN_MINUTES = 5;

export function needsWipe(host: Pick<HostRow, "powerDriver">): boolean {
  const policy = getEnv().KILN_WIPE_ON_RELEASE;
  return policy === "always" || (policy === "auto" && host.powerDriver !== "manual");
}

/** What someone has to do while the release wipe of this host waits for it to network-boot; null when Kiln can restart it. */
export function releaseWaitMessage(driver: string): string | null {
  const why = cannotRestartReason(driver);
  if (!why) return null;
  const how = driver === "wol" ? `restart it, or shut it down (Kiln wakes it again within ${WAKE_AGAIN_MINUTES} minutes)` : "restart it, or switch it on if it is off";
  return `Kiln cannot restart this machine (${why}): ${how}, so it network-boots and its disk is wiped; it becomes available when the wipe is done.`;
}

/** What the holder should know before releasing this host; null when nothing is asked of them. */
export function releaseAdvice(host: Pick<HostRow, "powerDriver">): string | null {
  const why = cannotRestartReason(host.powerDriver);
  if (!why || !needsWipe(host)) return null;
  const before = host.powerDriver === "wol" ? "Shut it down before you release it, and Kiln wakes it to wipe its disk; if you leave it running, restart it after releasing" : "After releasing, restart it (or switch it on)";
  // Restarting before the release does not help: until the wipe is queued, Kiln answers a network boot with "boot from disk".
  return `Kiln cannot restart this machine (${why}). ${before} so it network-boots and its disk is wiped; it goes back to the pool once the wipe is done.`;
}

export type ReleaseWait = {
  /** What to do, in the words of releaseWaitMessage. */
  message: string;
  deploymentId: string;
  /** The lease whose end the wipe follows. */
  leaseId: string | null;
  /** Since when the wipe waits for the machine's network boot. */
  since: string | null;
  /** When the host goes to maintenance if the machine has not network-booted by then. */
  until: string | null;
};

/**
 * The hosts among these whose release wipe waits for a network boot Kiln cannot cause (its
 * power-on or boot step is current). A host whose machine has booted the ramdisk is not
 * waiting any more: it is being wiped.
 */
export async function listReleaseWaits(db: DbOrTx, hosts: Pick<HostRow, "id" | "state" | "powerDriver">[]): Promise<Map<string, ReleaseWait>> {
  const out = new Map<string, ReleaseWait>();
  for (const host of hosts) {
    const message = host.state === "releasing" ? releaseWaitMessage(host.powerDriver) : null;
    if (!message) continue;
    const run = await getActiveDeployment(db, host.id);
    if (!run || run.origin !== "release") continue;
    const step = (await listSteps(db, [run.id])).find((s) => s.state === "pending" || s.state === "running");
    if (!step || (step.name !== "power_on" && step.name !== "boot")) continue;
    out.set(host.id, {
      message,
      deploymentId: run.id,
      leaseId: run.leaseId,
      since: (step.name === "boot" ? step.startedAt : null)?.toISOString() ?? run.startedAt?.toISOString() ?? null,
      until: step.name === "boot" ? (step.timeoutAt?.toISOString() ?? null) : null,
    });
  }
  return out;
}
