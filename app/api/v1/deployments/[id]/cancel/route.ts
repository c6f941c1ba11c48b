// POST /api/v1/deployments/:id/cancel — stop a run: it ends as cancelled and the machine is switched off
import { idParam, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { cancelDeployment } from "@/lib/deployments/commands";
import { ok, withErrors } from "@/lib/http/handler";

export const POST = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  return ok(await cancelDeployment(getAppDb(), actor, await idParam(ctx, "id", "That deployment does not exist.")));
});
