// GET /api/v1/deployments/:id — one provisioning run: steps, progress, log lines (?logs_after=), the live feed position
import { idParam, parseQuery, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { getDeployment } from "@/lib/deployments/views";
import { ok, withErrors } from "@/lib/http/handler";
import { deploymentGetQuerySchema } from "@/lib/validation/deployments";

export const GET = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  return ok(await getDeployment(getAppDb(), actor, await idParam(ctx, "id", "That deployment does not exist."), parseQuery(deploymentGetQuerySchema, req)));
});
