// GET /api/v1/records/:id/diff — what would differ if the record were re-run now (?hostId=: on that held host)
import { idParam, parseQuery, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { diffRunRecord } from "@/lib/deployments/record-access";
import { ok, withErrors } from "@/lib/http/handler";
import { recordDiffQuerySchema } from "@/lib/validation/records";

export const GET = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  return ok(await diffRunRecord(getAppDb(), actor, await idParam(ctx, "id", "That run record does not exist, or you may not see it."), parseQuery(recordDiffQuerySchema, req)));
});
