// DELETE /api/v1/leases/:id/disks/:diskId — the holder (or an admin) deletes an extra disk: its export stops, its file is deleted
import { idParam, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { deleteLeaseDisk } from "@/lib/extra-disks/extra-disks";
import { ok, withErrors } from "@/lib/http/handler";

type Ctx = IdContext<"id" | "diskId">;

export const DELETE = withErrors(async (req, ctx: Ctx) => {
  const actor = await requireActor(req);
  const id = await idParam(ctx, "id", "That lease does not exist.");
  const diskId = await idParam(ctx, "diskId", "That disk does not exist in this lease.");
  return ok(await deleteLeaseDisk(getAppDb(), actor, id, diskId));
});
