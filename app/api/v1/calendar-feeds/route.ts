// GET/POST /api/v1/calendar-feeds — the caller's ICS feeds; a new one (its address shown once)
import { readOptionalJson } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { createCalendarFeed, listCalendarFeeds } from "@/lib/calendar/feeds";
import { getAppDb } from "@/lib/db";
import { ok, withErrors } from "@/lib/http/handler";

export const GET = withErrors(async (req) => {
  const actor = await requireActor(req);
  return ok(await listCalendarFeeds(getAppDb(), actor));
});

export const POST = withErrors(async (req) => {
  const actor = await requireActor(req);
  return ok(await createCalendarFeed(getAppDb(), actor, await readOptionalJson(req)), 201);
});
