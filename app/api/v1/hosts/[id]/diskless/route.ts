// GET /api/v1/hosts/:id/diskless — the held host's diskless root (docs/diskless.md); DELETE — release it (overlay deleted)
import { idParam, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { getDisklessRoot, releaseDisklessRoot } from "@/lib/diskless/diskless";
import { ok, withErrors } from "@/lib/http/handler";

const NOT_FOUND = "That host does not exist.";

export const GET = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  return ok(await getDisklessRoot(getAppDb(), actor, await idParam(ctx, "id", NOT_FOUND)));
});

export const DELETE = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  const id = await idParam(ctx, "id", NOT_FOUND);
  await releaseDisklessRoot(getAppDb(), actor, id);
  return ok(await getDisklessRoot(getAppDb(), actor, id));
});
