// POST /api/v1/hosts/:id/console — a one-use, one-minute ticket for the host's serial console WebSocket (holder or admin; audited)
import { idParam, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { issueConsoleTicket } from "@/lib/console/console";
import { getAppDb } from "@/lib/db";
import { ok, withErrors } from "@/lib/http/handler";

export const POST = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  const id = await idParam(ctx, "id", "That host does not exist.");
  return ok(await issueConsoleTicket(getAppDb(), actor, id));
});
