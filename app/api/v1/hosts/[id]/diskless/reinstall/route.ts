// POST /api/v1/hosts/:id/diskless/reinstall — discard the diskless root's changes (a new empty overlay of the same version)
import { idParam, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { getDisklessRoot, reinstallDisklessRoot } from "@/lib/diskless/diskless";
import { ok, withErrors } from "@/lib/http/handler";

const NOT_FOUND = "That host does not exist.";

export const POST = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  const id = await idParam(ctx, "id", NOT_FOUND);
  await reinstallDisklessRoot(getAppDb(), actor, id);
  return ok(await getDisklessRoot(getAppDb(), actor, id));
});
