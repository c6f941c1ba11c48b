// POST /api/v1/deployments/:id/retry — run a failed or cancelled run again, with the same versions, vars and options
import { idParam, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { retryDeployment } from "@/lib/deployments/commands";
import { ok, withErrors } from "@/lib/http/handler";

export const POST = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  return ok(await retryDeployment(getAppDb(), actor, await idParam(ctx, "id", "That deployment does not exist.")), 201);
});
