// GET /api/v1/images/:id/versions — every version, newest first (uploads arrive through /api/uploads)
import { idParam, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, withErrors } from "@/lib/http/handler";
import { IMAGE_NOT_FOUND, listImageVersions } from "@/lib/images/images";

export const GET = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  return ok({ data: await listImageVersions(getAppDb(), actor, await idParam(ctx, "id", IMAGE_NOT_FOUND)) });
});
