// GET  /api/v1/hosts/:id/power — its power state (last read by the worker or the last action)
// POST /api/v1/hosts/:id/power {action: on|off|cycle|status, bootFromNetwork?} — the holder (or an admin) controls a host's power
import { idParam, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, readJson, withErrors } from "@/lib/http/handler";
import { powerHost } from "@/lib/power/power";
import { getHostPowerView } from "@/lib/power/view";

export const GET = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  const id = await idParam(ctx, "id", "That host does not exist.");
  return ok(await getHostPowerView(getAppDb(), actor, id));
});

export const POST = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  const id = await idParam(ctx, "id", "That host does not exist.");
  return ok(await powerHost(getAppDb(), actor, id, await readJson(req)));
});
