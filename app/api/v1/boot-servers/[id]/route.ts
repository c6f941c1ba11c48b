// DELETE /api/v1/boot-servers/:id — admins forget a boot server that is stopped or down
import { idParam, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, withErrors } from "@/lib/http/handler";
import { deleteBootServer } from "@/lib/sites/sites";

export const DELETE = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  await deleteBootServer(getAppDb(), actor, await idParam(ctx, "id", "That boot server is not known."));
  return ok({ ok: true });
});
