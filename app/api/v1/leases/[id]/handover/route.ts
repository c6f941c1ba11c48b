// POST /api/v1/leases/:id/handover — the holder (or an admin) hands the lease, or one host of it, to another project member
import { idParam, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, readJson, withErrors } from "@/lib/http/handler";
import { handOverLease } from "@/lib/leases/leases";

export const POST = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  const id = await idParam(ctx, "id", "That lease does not exist.");
  return ok(await handOverLease(getAppDb(), actor, id, await readJson(req)));
});
