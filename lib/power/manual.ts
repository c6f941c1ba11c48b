// No remote power control: Kiln asks the holder to press the button.
import type { PowerAction, PowerContext, PowerDriver, PowerResult } from "./types";

const ASK: Record<PowerAction, string> = {
  on: "Switch the machine on by hand now.",
  off: "Switch the machine off by hand now.",
  cycle: "Power-cycle the machine by hand now (switch it off and on again).",
  status: "Kiln cannot see whether this machine is on.",
};

export const manualDriver: PowerDriver = {
  name: "manual",
  canPowerOff: false,
  reportsState: false,
  noStateReason: "Kiln cannot see whether this machine is on: its power is switched by hand.",
  async run(action: PowerAction, ctx: PowerContext): Promise<PowerResult> {
    if (action !== "status") ctx.log(`manual power: asked the holder to ${action === "cycle" ? "power-cycle" : `switch ${action}`} ${ctx.host.name}`);
    return { state: "unknown", message: `${ctx.host.name}: ${ASK[action]}` };
  },
};
