// DELETE /api/v1/maintenance-windows/:id — an admin removes a maintenance window (the time is free again)
import { idParam, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, withErrors } from "@/lib/http/handler";
import { deleteMaintenanceWindow } from "@/lib/reservations/maintenance";

export const DELETE = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  return ok(await deleteMaintenanceWindow(getAppDb(), actor, await idParam(ctx, "id", "That maintenance window does not exist.")));
});
