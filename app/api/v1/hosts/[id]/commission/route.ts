// POST /api/v1/hosts/:id/commission — admins have a host boot the ramdisk in inventory mode and report its hardware (docs/commissioning.md)
import { idParam, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { commissionHost } from "@/lib/deployments/commission";
import { ok, withErrors } from "@/lib/http/handler";

export const POST = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  const id = await idParam(ctx, "id", "That host does not exist.");
  return ok(await commissionHost(getAppDb(), actor, id), 201);
});
