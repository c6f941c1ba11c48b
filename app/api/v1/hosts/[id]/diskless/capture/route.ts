// POST /api/v1/hosts/:id/diskless/capture — the diskless root (overlay + its version) as the next version of an image of your own
import { idParam, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { captureDisklessRoot } from "@/lib/diskless/diskless";
import { ok, readJson, withErrors } from "@/lib/http/handler";

const NOT_FOUND = "That host does not exist.";

export const POST = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  const id = await idParam(ctx, "id", NOT_FOUND);
  return ok(await captureDisklessRoot(getAppDb(), actor, id, await readJson(req)), 201);
});
