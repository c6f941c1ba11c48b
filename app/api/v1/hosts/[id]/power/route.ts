// POST /api/v1/hosts/:id/power {action: on|off|cycle|status} — the holder (or an admin) controls a host's power
import { idParam, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, readJson, withErrors } from "@/lib/http/handler";
import { powerHost } from "@/lib/power/power";

export const POST = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  const id = await idParam(ctx, "id", "That host does not exist.");
  return ok(await powerHost(getAppDb(), actor, id, await readJson(req)));
});
