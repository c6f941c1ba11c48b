// POST /api/v1/deployment-groups/:id/retry-failed — run each failed (or never started) host of the group again
import { idParam, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { retryFailedGroupHosts } from "@/lib/deployments/groups";
import { ok, withErrors } from "@/lib/http/handler";

export const POST = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  return ok(await retryFailedGroupHosts(getAppDb(), actor, await idParam(ctx, "id", "That deployment group does not exist.")), 201);
});
