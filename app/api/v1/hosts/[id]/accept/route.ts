// POST /api/v1/hosts/:id/accept — admins accept a discovered host (new → available), optionally naming it and placing it in a pool
import { idParam, readOptionalJson, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { acceptHost } from "@/lib/hosts/hosts";
import { ok, withErrors } from "@/lib/http/handler";

export const POST = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  const id = await idParam(ctx, "id", "That host does not exist.");
  return ok(await acceptHost(getAppDb(), actor, id, await readOptionalJson(req)));
});
