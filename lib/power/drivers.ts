import { ipmiDriver } from "./ipmi";
import { manualDriver } from "./manual";
import { pluginDriver } from "./plugin";
import { qemuDriver } from "./qemu";
import type { PowerDriver } from "./types";
import { wolDriver } from "./wol";

/** Every power driver, by the name stored in hosts.power_driver. */
export const POWER_DRIVERS: Record<string, PowerDriver> = Object.assign(Object.create(null) as Record<string, PowerDriver>, {
  manual: manualDriver,
  wol: wolDriver,
  ipmi: ipmiDriver,
  plugin: pluginDriver,
  qemu: qemuDriver,
});

/** Whether Kiln can switch a host with this driver off (unknown drivers: no). */
export function canPowerOff(driver: string): boolean {
  return POWER_DRIVERS[driver]?.canPowerOff ?? false;
}
