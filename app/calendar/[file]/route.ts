// GET /calendar/<token>.ics — an ICS feed for calendar clients: no session, the token in the address is the credential
import { type IdContext } from "@/lib/api/request";
import { renderCalendarFeed } from "@/lib/calendar/feeds";
import { getAppDb } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { withErrors } from "@/lib/http/handler";

export const dynamic = "force-dynamic";

export const GET = withErrors(async (_req, ctx: IdContext<"file">) => {
  const file = (await ctx.params).file;
  if (!file.endsWith(".ics")) throw new AppError("not_found", "This calendar feed does not exist or was revoked.");
  const body = await renderCalendarFeed(getAppDb(), file.slice(0, -".ics".length));
  return new Response(body, {
    headers: {
      "content-type": "text/calendar; charset=utf-8",
      "content-disposition": 'inline; filename="kiln.ics"',
      // The address is a secret: no shared cache may keep the answer.
      "cache-control": "private, no-store",
    },
  });
});
