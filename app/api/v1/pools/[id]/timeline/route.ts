// GET /api/v1/pools/:id/timeline — who holds the pool's hosts when (any signed-in user; others' bookings by project only)
import { idParam, parseQuery, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getPoolTimeline } from "@/lib/calendar/timeline";
import { getAppDb } from "@/lib/db";
import { ok, withErrors } from "@/lib/http/handler";
import { timelineQuerySchema } from "@/lib/validation/calendar";

export const GET = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  const query = parseQuery(timelineQuerySchema, req);
  return ok(await getPoolTimeline(getAppDb(), actor, await idParam(ctx, "id", "That pool does not exist."), query));
});
