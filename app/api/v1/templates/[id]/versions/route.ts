// POST /api/v1/templates/:id/versions — save new source as the next version (old versions never change)
import { idParam, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, readJson, withErrors } from "@/lib/http/handler";
import { saveTemplateVersion } from "@/lib/templates/templates";

export const POST = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  const id = await idParam(ctx, "id", "That template does not exist, or you may not see it.");
  return ok(await saveTemplateVersion(getAppDb(), actor, id, await readJson(req)), 201);
});
