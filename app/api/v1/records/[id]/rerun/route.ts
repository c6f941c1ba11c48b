// POST /api/v1/records/:id/rerun — deploy what the record pinned again, on hosts the caller holds (one lease)
import { idParam, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { rerunRunRecord } from "@/lib/deployments/record-rerun";
import { ok, readJson, withErrors } from "@/lib/http/handler";

export const POST = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  return ok(await rerunRunRecord(getAppDb(), actor, await idParam(ctx, "id", "That run record does not exist, or you may not see it."), await readJson(req)), 201);
});
