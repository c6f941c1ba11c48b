// GET /api/v1/images/:id/versions?page=&per_page= — every version, newest first (uploads arrive through /api/uploads)
import { idParam, pageOf, parseQuery, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, withErrors } from "@/lib/http/handler";
import { IMAGE_NOT_FOUND, listImageVersions } from "@/lib/images/images";
import { paginationSchema } from "@/lib/validation/common";

export const GET = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  const id = await idParam(ctx, "id", IMAGE_NOT_FOUND);
  const page = parseQuery(paginationSchema, req);
  return ok(pageOf(await listImageVersions(getAppDb(), actor, id), page));
});
