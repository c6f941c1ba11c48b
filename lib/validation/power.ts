import { z } from "zod";
import { POWER_STATES } from "@/db/schema/enums";
import { timestampSchema } from "./common";

export const POWER_ACTIONS = ["on", "off", "cycle", "status"] as const;
export type PowerAction = (typeof POWER_ACTIONS)[number];

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

// Responses (see ./common.ts).
export const powerViewSchema = z.object({
  hostId: z.string(),
  driver: z.string(),
  state: z.enum(POWER_STATES),
  message: z.string(),
  checkedAt: timestampSchema.nullable(),
  changedAt: timestampSchema.nullable(),
  reportsState: z.boolean(),
  canPowerOff: z.boolean(),
  networkBoot: z.enum(["override", "always"]).nullable(),
});
export const powerListResponseSchema = z.object({ data: z.array(powerViewSchema) });
export const powerActionResponseSchema = z.object({ state: z.enum(POWER_STATES), message: z.string(), log: z.array(z.string()) });
export const powerTestResponseSchema = z.object({ ok: z.boolean(), driver: z.string(), state: z.enum(POWER_STATES), message: z.string(), log: z.array(z.string()) });
