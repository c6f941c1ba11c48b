// POST /api/v1/leases/:id/release — the holder (or an admin) ends a lease early; its hosts are wiped and freed
import { idParam, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, withErrors } from "@/lib/http/handler";
import { releaseLease } from "@/lib/leases/leases";

export const POST = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  return ok(await releaseLease(getAppDb(), actor, await idParam(ctx, "id", "That lease does not exist.")));
});
