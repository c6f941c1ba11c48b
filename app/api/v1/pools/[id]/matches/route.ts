// GET /api/v1/pools/:id/matches — how many free hosts of the pool meet these hardware criteria (any signed-in user)
import { idParam, parseQuery, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, withErrors } from "@/lib/http/handler";
import { getPoolMatches } from "@/lib/leases/hardware";
import { poolMatchQuerySchema } from "@/lib/validation/pools";

export const GET = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  const query = parseQuery(poolMatchQuerySchema, req);
  return ok(await getPoolMatches(getAppDb(), actor, await idParam(ctx, "id", "That pool does not exist."), query));
});
