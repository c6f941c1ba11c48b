// POST /api/v1/templates/preview — render a saved template or unsaved text for a host the caller holds
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, readJson, withErrors } from "@/lib/http/handler";
import { previewTemplate } from "@/lib/templates/templates";

export const POST = withErrors(async (req) => {
  const actor = await requireActor(req);
  return ok(await previewTemplate(getAppDb(), actor, await readJson(req)));
});
