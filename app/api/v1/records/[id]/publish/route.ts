// POST /api/v1/records/:id/publish — make a run record readable without signing in (project leaders, administrators)
import { idParam, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { publishRunRecord } from "@/lib/deployments/record-access";
import { ok, withErrors } from "@/lib/http/handler";

export const POST = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  return ok(await publishRunRecord(getAppDb(), actor, await idParam(ctx, "id", "That run record does not exist, or you may not see it.")));
});
