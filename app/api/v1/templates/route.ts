// GET /api/v1/templates?kind= — templates the caller may use; POST — create one (version 1)
import { parseQuery } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, readJson, withErrors } from "@/lib/http/handler";
import { createTemplate, listTemplates } from "@/lib/templates/templates";
import { templateListQuerySchema } from "@/lib/validation/templates";

export const GET = withErrors(async (req) => {
  const actor = await requireActor(req);
  const { kind } = parseQuery(templateListQuerySchema, req);
  return ok({ data: await listTemplates(getAppDb(), actor, kind) });
});

export const POST = withErrors(async (req) => {
  const actor = await requireActor(req);
  return ok(await createTemplate(getAppDb(), actor, await readJson(req)), 201);
});
