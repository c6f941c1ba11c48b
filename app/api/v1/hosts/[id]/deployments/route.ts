// GET /api/v1/hosts/:id/deployments — a held host's provisioning runs; POST — start one (install, deploy_image, capture_disk, wipe_disk)
import { idParam, parseQuery, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { listDeployments } from "@/lib/deployments/views";
import { startDeployment } from "@/lib/deployments/start";
import { ok, readJson, withErrors } from "@/lib/http/handler";
import { deploymentListQuerySchema } from "@/lib/validation/deployments";

const NOT_FOUND = "That host does not exist.";

export const GET = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  return ok(await listDeployments(getAppDb(), actor, await idParam(ctx, "id", NOT_FOUND), parseQuery(deploymentListQuerySchema, req)));
});

export const POST = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  const id = await idParam(ctx, "id", NOT_FOUND);
  return ok(await startDeployment(getAppDb(), actor, id, await readJson(req)), 201);
});
