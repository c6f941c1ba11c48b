// POST /api/v1/leases/:id/deploy — one image or install to all or some held hosts of a lease, as a deployment group
import { idParam, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { startLeaseDeploy } from "@/lib/deployments/groups";
import { ok, readJson, withErrors } from "@/lib/http/handler";

export const POST = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  const id = await idParam(ctx, "id", "That lease does not exist.");
  return ok(await startLeaseDeploy(getAppDb(), actor, id, await readJson(req)), 201);
});
