// GET/PATCH/DELETE /api/v1/sites/:id — admins read, rename, set the boot URL of, or delete (when empty) a site
import { idParam, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, readJson, withErrors } from "@/lib/http/handler";
import { deleteSite, getSite, updateSite } from "@/lib/sites/sites";

const NOT_FOUND = "That site does not exist.";

export const GET = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  return ok(await getSite(getAppDb(), actor, await idParam(ctx, "id", NOT_FOUND)));
});

export const PATCH = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  return ok(await updateSite(getAppDb(), actor, await idParam(ctx, "id", NOT_FOUND), await readJson(req)));
});

export const DELETE = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  await deleteSite(getAppDb(), actor, await idParam(ctx, "id", NOT_FOUND));
  return ok({ ok: true });
});
