// DELETE /api/v1/calendar-feeds/:id — revoke one of the caller's ICS feeds (its address stops working)
import { idParam, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { revokeCalendarFeed } from "@/lib/calendar/feeds";
import { getAppDb } from "@/lib/db";
import { ok, withErrors } from "@/lib/http/handler";

export const DELETE = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  await revokeCalendarFeed(getAppDb(), actor, await idParam(ctx, "id", "This calendar feed does not exist or was revoked."));
  return ok({ ok: true });
});
