// GET /api/v1/hosts/:id/events — live feed of a held host's runs (Server-Sent Events; resumes after Last-Event-ID or ?after=)
import { idParam, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { openHostEventStream } from "@/lib/deployments/live";
import { withErrors } from "@/lib/http/handler";
import { eventCursorSchema } from "@/lib/validation/deployments";

export const dynamic = "force-dynamic";

export const GET = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  const id = await idParam(ctx, "id", "That host does not exist.");
  // A reconnecting EventSource sends Last-Event-ID; the first connection passes ?after=.
  const after = eventCursorSchema.parse(req.headers.get("last-event-id") ?? new URL(req.url).searchParams.get("after") ?? undefined);
  const stream = await openHostEventStream(getAppDb(), actor, id, { after, signal: req.signal });
  return new Response(stream, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      connection: "keep-alive",
      // nginx and similar proxies must pass events through as they come.
      "x-accel-buffering": "no",
    },
  });
});
