import { z } from "zod";
import { POWER_ACTIONS } from "../power/types";

export const powerActionSchema = z.object({
  action: z.enum(POWER_ACTIONS),
  // Make the next boot a network boot first (IPMI bootdev pxe, Redfish boot override), for "on" and "cycle".
  bootFromNetwork: z.boolean().optional(),
});
export type PowerActionInput = z.infer<typeof powerActionSchema>;
