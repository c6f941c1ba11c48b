// GET /api/v1/deployment-groups/:id — every host of a deployment group: its run's state, step, progress, attempts
import { idParam, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { getDeploymentGroup } from "@/lib/deployments/groups";
import { ok, withErrors } from "@/lib/http/handler";

export const GET = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  return ok(await getDeploymentGroup(getAppDb(), actor, await idParam(ctx, "id", "That deployment group does not exist.")));
});
