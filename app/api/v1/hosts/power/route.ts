// GET /api/v1/hosts/power?ids=a,b — the power badges of a list: admins any host, others the hosts they hold
import { parseQuery } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, withErrors } from "@/lib/http/handler";
import { listHostPowerViews } from "@/lib/power/view";
import { powerStatesQuerySchema } from "@/lib/validation/power";

export const GET = withErrors(async (req) => {
  const actor = await requireActor(req);
  const { ids } = parseQuery(powerStatesQuerySchema, req);
  return ok(await listHostPowerViews(getAppDb(), actor, ids));
});
