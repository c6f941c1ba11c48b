import { ipmiDriver } from "./ipmi";
import { manualDriver } from "./manual";
import { pluginDriver } from "./plugin";
import { qemuDriver } from "./qemu";
import { redfishDriver } from "./redfish";
import type { PowerDriver } from "./types";
import { wolDriver } from "./wol";

/** Every power driver, by the name stored in hosts.power_driver. */
export const POWER_DRIVERS: Record<string, PowerDriver> = Object.assign(Object.create(null) as Record<string, PowerDriver>, {
  manual: manualDriver,
  wol: wolDriver,
  ipmi: ipmiDriver,
  plugin: pluginDriver,
  qemu: qemuDriver,
  redfish: redfishDriver,
});

/** Whether Kiln can switch a host with this driver off (unknown drivers: no). */
export function canPowerOff(driver: string): boolean {
  return POWER_DRIVERS[driver]?.canPowerOff ?? false;
}

const DRIVER_LABELS: Record<string, string> = { wol: "Wake-on-LAN", manual: "manual power" };

/**
 * Why Kiln cannot restart a host itself ("Wake-on-LAN", "manual power"), or null when it can.
 * A driver that cannot switch a machine off cannot restart a running one either: Wake-on-LAN's
 * "cycle" only wakes a machine that is off, so a running OS keeps running and never network-boots.
 */
export function cannotRestartReason(driver: string): string | null {
  if (canPowerOff(driver)) return null;
  return DRIVER_LABELS[driver] ?? `power driver “${driver}”`;
}
