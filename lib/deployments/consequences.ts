// What a reinstall, or cancelling a run, does to the machine, in the words the host page shows
// before the person confirms. Pure and client-safe: the page passes in what it knows (the
// action, whether Kiln can restart this machine, how far the run got); the rules mirror
// createDeployment (power step or none), cancelDeployment (power-off where the driver can) and
// decideNextBoot (a cancelled or failed write halts the next boot).
import type { DeploymentAction } from "../validation/deployments";

/** The step after which a run's action may have changed the disk (capture only reads it). */
export const DISK_STEP: Partial<Record<DeploymentAction, string>> = { deploy_image: "write", install: "install", wipe_disk: "wipe" };

/** Whether a run got as far as the step that changes its disk. */
export function hasTouchedDisk(run: { action: DeploymentAction; steps: { name: string; startedAt: string | Date | null }[] }): boolean {
  const step = DISK_STEP[run.action];
  return Boolean(step && run.steps.some((s) => s.name === step && s.startedAt !== null));
}

export type ReinstallPlanText = {
  action: DeploymentAction;
  hostName: string;
  /** Why Kiln cannot restart this machine ("Wake-on-LAN", "manual power"), or null when it can. */
  cannotRestart: string | null;
  /** An install the holder boots by hand: nobody powers the machine (a "mark"). */
  waitForBoot?: boolean;
  wipeFirst?: boolean;
  wipeMode?: "quick" | "full";
  /** What is written or used, already worded ("image “base” version 3", "“Debian 12 netinstall” with “Debian 12 preseed”"). */
  what?: string;
  disk?: string;
  /** deploy_image with a cloud-init template: the run ends at the written system's first boot. */
  firstBoot?: boolean;
};

/** The review step's sentences: what will happen to the machine, in order. */
export function describeReinstall(p: ReinstallPlanText): string[] {
  const disk = p.disk ? `disk ${p.disk}` : "its disk";
  const out: string[] = [];
  if (p.waitForBoot) out.push(`Nothing happens to ${p.hostName} now: it runs this the next time it network-boots (restart it yourself, set to boot from the network).`);
  else if (p.cannotRestart) out.push(`Kiln cannot restart ${p.hostName} (${p.cannotRestart}): it boots it the next time it network-boots — if it is running now, restart it yourself.`);
  else out.push(`${p.hostName} is power-cycled now, whatever it is running, and boots from the network.`);
  switch (p.action) {
    case "deploy_image":
      out.push(`${cap(disk)} is overwritten with ${p.what ?? "the image"}${p.wipeFirst ? "; the whole disk is erased first" : ""}. Everything on it now is lost.`);
      break;
    case "install":
      out.push(`An unattended install${p.what ? ` (${p.what})` : ""} runs; it normally erases ${disk}. Everything on it now is lost.`);
      break;
    case "capture_disk":
      out.push(`${cap(disk)} is read, not changed, and uploaded as the next version of ${p.what ?? "the image"}.`);
      break;
    case "wipe_disk":
      out.push(p.wipeMode === "full" ? "Every byte of the disks is zeroed. Everything on them is lost." : "The disks' signatures, partition tables and both ends are erased. Everything on them is lost.");
      break;
  }
  if (p.firstBoot) out.push("Once the image is written, the machine boots it from its local disk; cloud-init there fetches its settings from Kiln and reports done, which ends the run.");
  else out.push(p.action === "capture_disk" || p.action === "wipe_disk" ? "When it ends, the machine is switched off where Kiln can." : "When it reports done, it boots its local disk.");
  return out;
}

export type CancelText = {
  action: DeploymentAction;
  /** The run was a mark: nobody powered the machine for it. */
  mark: boolean;
  cannotRestart: string | null;
  /** Whether the step that changes the disk (write, install, wipe) has started. */
  diskStarted: boolean;
  /** An image deploy waiting for its first boot: the image is written and verified. */
  diskWritten?: boolean;
};

/** A run at (or past) its first boot has a whole, verified disk: cancelling it halts nothing. */
export function isDiskWritten(run: { steps: { name: string; startedAt: string | Date | null }[] }): boolean {
  return run.steps.some((s) => s.name === "first_boot" && s.startedAt !== null);
}

/** The cancel confirmation: what happens to the machine when this run is cancelled. */
export function describeCancel(p: CancelText): string[] {
  const out: string[] = [];
  if (p.mark) out.push("Nothing is switched off: Kiln never powered the machine for this run.");
  else if (p.cannotRestart) out.push(`Kiln cannot switch the machine off (${p.cannotRestart}): it keeps running what it runs now; switch it off yourself if it should stop.`);
  else out.push("The machine is switched off now.");
  if (p.action === "deploy_image" && p.diskWritten) {
    out.push("The image is written and verified: the machine will boot it next time, without what its first boot (cloud-init) would have set up.");
  } else if (p.action === "deploy_image" && p.diskStarted) {
    out.push("The disk is half-written: the machine will not boot it. Its next network boot halts until you start a new run, or choose “Boot the disk anyway”.");
  } else if (p.action === "capture_disk") {
    out.push("The disk is left as it is, and no image version is added.");
  } else if (p.diskStarted) {
    out.push(`The machine will boot its local disk next time; a half-${p.action === "wipe_disk" ? "wiped" : "written"} disk stays half-${p.action === "wipe_disk" ? "wiped" : "written"}.`);
  } else {
    out.push("Its disk has not been touched: the machine will boot its local disk next time.");
  }
  out.push("Your lease is not affected.");
  return out;
}

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
