// PUT /api/v1/hosts/:id/vars — admins set per-host template variables (lease vars override them)
import { idParam, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { setHostVars } from "@/lib/boot/boot-settings";
import { getAppDb } from "@/lib/db";
import { ok, readJson, withErrors } from "@/lib/http/handler";

export const PUT = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  const id = await idParam(ctx, "id", "That host does not exist.");
  return ok(await setHostVars(getAppDb(), actor, id, await readJson(req)));
});
