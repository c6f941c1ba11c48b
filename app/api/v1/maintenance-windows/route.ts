// GET /api/v1/maintenance-windows — windows by pool, host, time (anyone signed in); POST — an admin takes a pool or a host out of service for a time
import { parseQuery } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, readJson, withErrors } from "@/lib/http/handler";
import { createMaintenanceWindow, listMaintenanceWindows } from "@/lib/reservations/maintenance";
import { maintenanceWindowListQuerySchema } from "@/lib/validation/reservations";

export const GET = withErrors(async (req) => {
  const actor = await requireActor(req);
  return ok(await listMaintenanceWindows(getAppDb(), actor, parseQuery(maintenanceWindowListQuerySchema, req)));
});

export const POST = withErrors(async (req) => {
  const actor = await requireActor(req);
  return ok(await createMaintenanceWindow(getAppDb(), actor, await readJson(req)), 201);
});
