import { z } from "zod";
import { POWER_ACTIONS } from "../power/types";

export const powerActionSchema = z.object({ action: z.enum(POWER_ACTIONS) });
