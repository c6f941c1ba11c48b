// GET /api/v1/templates/:id/diff?from=N&to=M — unified diff between two versions
import { idParam, parseQuery, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, withErrors } from "@/lib/http/handler";
import { diffTemplateVersions } from "@/lib/templates/templates";
import { templateDiffQuerySchema } from "@/lib/validation/templates";

export const GET = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  const id = await idParam(ctx, "id", "That template does not exist, or you may not see it.");
  const { from, to } = parseQuery(templateDiffQuerySchema, req);
  return ok({ diff: await diffTemplateVersions(getAppDb(), actor, id, from, to) });
});
