import { z } from "zod";
import { POWER_ACTIONS } from "../power/types";

export const powerActionSchema = z.object({
  action: z.enum(POWER_ACTIONS),
  // Make the next boot a network boot first (IPMI bootdev pxe, Redfish boot override), for "on" and "cycle".
  bootFromNetwork: z.boolean().optional(),
});
export type PowerActionInput = z.infer<typeof powerActionSchema>;

// GET /api/v1/hosts/power?ids=a,b,c — comma-separated host ids (a page of a list).
export const powerStatesQuerySchema = z.object({
  ids: z
    .string()
    .default("")
    .transform((s) => [...new Set(s.split(",").map((x) => x.trim()).filter(Boolean))])
    .pipe(z.array(z.uuid("Each id must be a host id (a UUID).")).max(500, "Ask for at most 500 hosts at a time.")),
});
