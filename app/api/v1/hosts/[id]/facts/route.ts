// GET /api/v1/hosts/:id/facts — a host's hardware fact versions, newest first, each with what changed since the one before
import { idParam, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { listFactVersionViews } from "@/lib/hosts/fact-versions";
import { ok, withErrors } from "@/lib/http/handler";

export const GET = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  const id = await idParam(ctx, "id", "That host does not exist.");
  return ok({ data: await listFactVersionViews(getAppDb(), actor, id) });
});
