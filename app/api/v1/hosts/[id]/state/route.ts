// POST /api/v1/hosts/:id/state — admins move a host to maintenance, broken or available, with a reason
import { idParam, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { changeHostState } from "@/lib/hosts/hosts";
import { ok, readJson, withErrors } from "@/lib/http/handler";

export const POST = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  const id = await idParam(ctx, "id", "That host does not exist.");
  return ok(await changeHostState(getAppDb(), actor, id, await readJson(req)));
});
