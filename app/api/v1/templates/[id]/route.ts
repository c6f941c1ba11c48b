// GET /api/v1/templates/:id?version=N — a template with its source and history; PATCH — name, description, sharing; DELETE
import { idParam, parseQuery, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, readJson, withErrors } from "@/lib/http/handler";
import { deleteTemplate, getTemplate, updateTemplate } from "@/lib/templates/templates";
import { templateGetQuerySchema } from "@/lib/validation/templates";

const NOT_FOUND = "That template does not exist, or you may not see it.";

export const GET = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  const id = await idParam(ctx, "id", NOT_FOUND);
  return ok(await getTemplate(getAppDb(), actor, id, parseQuery(templateGetQuerySchema, req).version));
});

export const PATCH = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  const id = await idParam(ctx, "id", NOT_FOUND);
  return ok(await updateTemplate(getAppDb(), actor, id, await readJson(req)));
});

export const DELETE = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  const id = await idParam(ctx, "id", NOT_FOUND);
  await deleteTemplate(getAppDb(), actor, id);
  return ok({ ok: true });
});
