// GET /api/v1/leases/:id — a lease with its hosts and events (its holder, admins)
import { idParam, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, withErrors } from "@/lib/http/handler";
import { getLease } from "@/lib/leases/leases";

export const GET = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  return ok(await getLease(getAppDb(), actor, await idParam(ctx, "id", "That lease does not exist.")));
});
