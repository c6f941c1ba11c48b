// POST /api/v1/leases/:id/extend — the holder (or an admin) extends a lease, within pool and project policy
import { idParam, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, readJson, withErrors } from "@/lib/http/handler";
import { extendLease } from "@/lib/leases/leases";

export const POST = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  const id = await idParam(ctx, "id", "That lease does not exist.");
  return ok(await extendLease(getAppDb(), actor, id, await readJson(req)));
});
