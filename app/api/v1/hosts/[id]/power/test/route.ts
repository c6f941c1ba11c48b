// POST /api/v1/hosts/:id/power/test — admins check a host's power settings before anyone relies on them
import { idParam, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, withErrors } from "@/lib/http/handler";
import { testPowerSettings } from "@/lib/power/power";

export const POST = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  const id = await idParam(ctx, "id", "That host does not exist.");
  return ok(await testPowerSettings(getAppDb(), actor, id));
});
