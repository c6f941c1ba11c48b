// POST /api/v1/leases/:id/capture — the holder captures a held host's disk into an image (before the end or in its grace)
import { idParam, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, readJson, withErrors } from "@/lib/http/handler";
import { startLeaseCapture } from "@/lib/leases/staged-end";

export const POST = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  const id = await idParam(ctx, "id", "That lease does not exist.");
  return ok(await startLeaseCapture(getAppDb(), actor, id, await readJson(req)), 201);
});
