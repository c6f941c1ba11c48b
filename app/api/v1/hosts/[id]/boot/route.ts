// GET /api/v1/hosts/:id/boot — the holder's boot settings and what the next boot does; PUT — change them
import { idParam, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getBootSettings, updateBootSettings } from "@/lib/boot/boot-settings";
import { getAppDb } from "@/lib/db";
import { ok, readJson, withErrors } from "@/lib/http/handler";

const NOT_FOUND = "That host does not exist.";

export const GET = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  return ok(await getBootSettings(getAppDb(), actor, await idParam(ctx, "id", NOT_FOUND)));
});

export const PUT = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  const id = await idParam(ctx, "id", NOT_FOUND);
  return ok(await updateBootSettings(getAppDb(), actor, id, await readJson(req)));
});
