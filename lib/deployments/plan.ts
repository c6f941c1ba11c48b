// What a provisioning run consists of: the steps of each action, who drives each one, how
// long each may take and what its failure means to a person. Pure data and functions, so
// the reasons read the same in the API, the host page, mails and tests.
import { DEPLOYMENT_STEP_NAMES } from "@/db/schema/enums";
import type { DeploymentAction } from "@/lib/validation/deployments";

export const STEP_NAMES = DEPLOYMENT_STEP_NAMES;
export type StepName = (typeof STEP_NAMES)[number];

/** worker: a job does it (power). machine: it is done when the machine reports (over HTTP). */
export type StepDriver = "worker" | "machine";

type StepDef = {
  label: string;
  driver: StepDriver;
  /** Default deadline; progress reports move it forward for the data-moving steps. */
  timeoutSeconds: number;
  /** What a person reads when the deadline passes. */
  timeoutReason: (limit: string) => string;
};

export const STEPS: Record<StepName, StepDef> = {
  power_on: {
    label: "Power on from the network",
    driver: "worker",
    timeoutSeconds: 600,
    timeoutReason: (l) => `the machine could not be powered on within ${l} — is the worker running, and does the power driver answer?`,
  },
  boot: {
    label: "Network boot",
    driver: "machine",
    timeoutSeconds: 300,
    timeoutReason: (l) => `no boot request from the machine within ${l} — check PXE/DHCP (does DHCP point the machine at Kiln's chain script?) and the boot order`,
  },
  agent: {
    label: "Deploy agent starts",
    driver: "machine",
    timeoutSeconds: 300,
    timeoutReason: (l) => `the machine booted the ramdisk but its agent did not ask for instructions within ${l} — check the machine's console`,
  },
  write: {
    label: "Write the image",
    driver: "machine",
    timeoutSeconds: 600,
    timeoutReason: (l) => `no progress from the deploy agent for ${l} while writing the image — check the machine's console and network`,
  },
  verify: {
    label: "Verify the written image",
    driver: "machine",
    timeoutSeconds: 600,
    timeoutReason: (l) => `the deploy agent did not finish verifying the image within ${l}`,
  },
  install: {
    label: "Unattended install",
    driver: "machine",
    timeoutSeconds: 3600,
    timeoutReason: (l) => `the installer did not report done within ${l} — check the machine's console (the installer may be waiting for an answer)`,
  },
  wipe: {
    label: "Wipe the disks",
    driver: "machine",
    timeoutSeconds: 600,
    timeoutReason: (l) => `no progress from the agent for ${l} while wiping the disks`,
  },
  capture: {
    label: "Capture the disk",
    driver: "machine",
    timeoutSeconds: 600,
    timeoutReason: (l) => `no progress from the agent for ${l} while capturing the disk`,
  },
  inventory: {
    label: "Report the hardware",
    driver: "machine",
    timeoutSeconds: 300,
    timeoutReason: (l) => `the agent did not report the machine's hardware within ${l} — check the machine's console`,
  },
  first_boot: {
    label: "First boot of the installed system",
    driver: "machine",
    timeoutSeconds: 1800,
    timeoutReason: (l) =>
      `the installed system did not report done within ${l} of the image being written — check the machine's console: did it boot from its disk, and could cloud-init reach Kiln's seed (datasource NoCloud in /etc/cloud/cloud.cfg.d/99-kiln.cfg)?`,
  },
  root: {
    label: "Attach the network root",
    driver: "machine",
    timeoutSeconds: 300,
    timeoutReason: (l) => `the diskless ramdisk did not report its network root mounted within ${l} — check the machine's console (can it reach the NBD export?)`,
  },
  power_off: {
    label: "Power off",
    driver: "worker",
    timeoutSeconds: 600,
    timeoutReason: (l) => `the machine could not be powered off within ${l} — is the worker running, and does the power driver answer?`,
  },
};

/** Steps whose deadline each progress report moves forward ("no news for N minutes"). */
export const PROGRESS_STEPS: readonly StepName[] = ["write", "verify", "wipe", "capture"];

/**
 * The steps of each action. `mark` runs (the holder reboots the machine by hand) start at
 * the boot step and wait for it as long as the token lives.
 */
export function stepsFor(action: DeploymentAction, opts: { power: boolean; powerOff?: boolean; firstBoot?: boolean; diskless?: boolean }): StepName[] {
  const head: StepName[] = opts.power ? ["power_on", "boot"] : ["boot"];
  switch (action) {
    case "install":
      // With post-install from git (docs/post-install.md) the run ends when the installed
      // system's first boot has run the repository and reports done.
      return [...head, "install", ...(opts.firstBoot ? (["first_boot"] as StepName[]) : [])];
    case "deploy_image":
      // Diskless: the ramdisk attaches the run's copy-on-write root and starts its /sbin/init (docs/diskless.md).
      if (opts.diskless) return [...head, "root"];
      // With a cloud-init template the agent hands the written system its seed, and the run
      // ends when that system's first boot calls done (docs/cloud-init.md).
      return [...head, "agent", "write", "verify", ...(opts.firstBoot ? (["first_boot"] as StepName[]) : [])];
    case "capture_disk":
      return [...head, "agent", "capture"];
    case "wipe_disk":
      // The machine is left off: the next holder's first deploy powers it on. Switched off by
      // Kiln where the power driver can; otherwise (Wake-on-LAN, manual) by the agent itself.
      return [...head, "agent", "wipe", ...(opts.power && opts.powerOff !== false ? (["power_off"] as StepName[]) : [])];
    case "commission":
      // Like a wipe, the machine is left off: by Kiln where it can, else by the ramdisk itself.
      return [...head, "agent", "inventory", ...(opts.power && opts.powerOff !== false ? (["power_off"] as StepName[]) : [])];
  }
}

export function stepTimeoutSeconds(name: StepName, overrides: Partial<Record<StepName, number>> = {}): number {
  return overrides[name] ?? STEPS[name].timeoutSeconds;
}

/** 300 → "5 minutes", 3600 → "1 hour", 45 → "45 seconds", 604800 → "7 days". */
export function formatLimit(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)} second${Math.round(seconds) === 1 ? "" : "s"}`;
  if (seconds >= 2 * 86400 && seconds % 86400 === 0) return `${seconds / 86400} days`;
  if (seconds % 3600 === 0) return `${seconds / 3600} hour${seconds === 3600 ? "" : "s"}`;
  const minutes = Math.round(seconds / 60);
  return `${minutes} minutes`;
}

export function timeoutReason(name: StepName, seconds: number): string {
  return STEPS[name].timeoutReason(formatLimit(seconds));
}

/**
 * The boot step's reason when Kiln cannot restart the machine (Wake-on-LAN, manual power):
 * a machine left running never network-boots on its own, so "check PXE/DHCP" would send a
 * person the wrong way. `label` names the driver; `release` is the wipe at a lease's end.
 */
export function bootTimeoutWithoutRestart(seconds: number, label: string, release: boolean): string {
  const limit = formatLimit(seconds);
  return release
    ? `no boot request from the machine within ${limit} of the lease's end, and Kiln cannot restart it (${label}): it has to be restarted or shut down by someone so it network-boots (if it was, check that it boots from the network first); its disk was not wiped`
    : `no boot request from the machine within ${limit}; Kiln cannot restart it (${label}): if it was running, restart it so it network-boots, then retry; otherwise check PXE/DHCP and the boot order`;
}

export function isStepName(name: string): name is StepName {
  return (STEP_NAMES as readonly string[]).includes(name);
}

export const ACTION_LABELS: Record<DeploymentAction, string> = {
  install: "Unattended install",
  deploy_image: "Deploy an image",
  capture_disk: "Capture the disk",
  wipe_disk: "Wipe the disks",
  commission: "Commission",
};
