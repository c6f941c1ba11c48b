import type { POWER_STATES } from "@/db/schema/enums";
import type { PowerAction } from "../validation/power";

// The action list is the request contract (lib/validation/power.ts, below this folder); drivers take the same names.
export type { PowerAction };

export type PowerState = (typeof POWER_STATES)[number];

export type PowerContext = {
  host: { name: string; macs: string[]; pxeMac: string | null };
  params: Record<string, unknown>;
  secrets: Record<string, string>;
  /** Lines for the job log (stderr of plugins, what was sent where). */
  log: (line: string) => void;
  /** Set the next boot to the network first, where the driver can (IPMI bootdev pxe, Redfish Pxe override). */
  bootFromNetwork?: boolean;
};

export type PowerResult = { state: PowerState; message: string };

/** One way of switching machines on and off. Failures throw PowerError with a reason a person can act on. */
export interface PowerDriver {
  readonly name: string;
  /**
   * Whether the driver can switch a machine off. Wake-on-LAN can only wake one, and the manual
   * driver only asks a person: Kiln never waits on a power-off from them (a wipe's agent
   * switches the machine off itself instead), so a host is never failed for what its driver
   * cannot do.
   */
  readonly canPowerOff: boolean;
  /**
   * Whether the driver can read the machine's power state. The worker polls only these
   * (lib/power/poll.ts); the others show "unknown" with `noStateReason`.
   */
  readonly reportsState: boolean;
  readonly noStateReason?: string;
  /**
   * How the driver can make the next boot a network boot: "override" sets it for one boot
   * (IPMI bootdev pxe, Redfish's boot source override); "always" means the machines it drives
   * ask the network first on every boot anyway (the lab's VMs); absent: it cannot.
   */
  readonly networkBoot?: "override" | "always";
  run(action: PowerAction, ctx: PowerContext): Promise<PowerResult>;
}

export class PowerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PowerError";
  }
}

/** What the badge and the power buttons show of a host (GET /api/v1/hosts/:id/power). */
export type PowerView = {
  hostId: string;
  driver: string;
  state: PowerState;
  /** The driver's words, or why the state is unknown. */
  message: string;
  /** When the state was last read (null: never yet). */
  checkedAt: string | null;
  /** When it last changed ("off since …"). */
  changedAt: string | null;
  reportsState: boolean;
  canPowerOff: boolean;
  networkBoot: "override" | "always" | null;
};
