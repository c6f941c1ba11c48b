// POST /api/v1/hosts/bulk — admins move, accept, or change the state of many hosts at once (all or nothing)
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { bulkUpdateHosts } from "@/lib/hosts/hosts";
import { ok, readJson, withErrors } from "@/lib/http/handler";

export const POST = withErrors(async (req) => {
  const actor = await requireActor(req);
  return ok(await bulkUpdateHosts(getAppDb(), actor, await readJson(req)));
});
