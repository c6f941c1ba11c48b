export const POWER_ACTIONS = ["on", "off", "cycle", "status"] as const;
export type PowerAction = (typeof POWER_ACTIONS)[number];

export type PowerState = "on" | "off" | "unknown";

export type PowerContext = {
  host: { name: string; macs: string[]; pxeMac: string | null };
  params: Record<string, unknown>;
  secrets: Record<string, string>;
  /** Lines for the job log (stderr of plugins, what was sent where). */
  log: (line: string) => void;
  /** Set the next boot to the network first, where the driver can (IPMI bootdev pxe). */
  bootFromNetwork?: boolean;
};

export type PowerResult = { state: PowerState; message: string };

/** One way of switching machines on and off. Failures throw PowerError with a reason a person can act on. */
export interface PowerDriver {
  readonly name: string;
  run(action: PowerAction, ctx: PowerContext): Promise<PowerResult>;
}

export class PowerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PowerError";
  }
}
