// GET /api/v1/leases/:id/disks — the lease's extra disks (its holder, admins); POST — ask for N disks of a size for one of its hosts
import { idParam, parseQuery, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { createLeaseDisks, listLeaseDisks } from "@/lib/extra-disks/extra-disks";
import { ok, readJson, withErrors } from "@/lib/http/handler";
import { leaseDiskListQuerySchema } from "@/lib/validation/extra-disks";

export const GET = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  const id = await idParam(ctx, "id", "That lease does not exist.");
  return ok(await listLeaseDisks(getAppDb(), actor, id, parseQuery(leaseDiskListQuerySchema, req)));
});

export const POST = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  const id = await idParam(ctx, "id", "That lease does not exist.");
  return ok(await createLeaseDisks(getAppDb(), actor, id, await readJson(req)), 201);
});
