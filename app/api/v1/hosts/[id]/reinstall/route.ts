// POST /api/v1/hosts/:id/reinstall — mark the host for reinstall with its boot settings; DELETE — undo the mark
import { idParam, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { markForReinstall, undoMark } from "@/lib/boot/boot-settings";
import { getAppDb } from "@/lib/db";
import { ok, withErrors } from "@/lib/http/handler";

const NOT_FOUND = "That host does not exist.";

export const POST = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  return ok(await markForReinstall(getAppDb(), actor, await idParam(ctx, "id", NOT_FOUND)), 201);
});

export const DELETE = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  return ok(await undoMark(getAppDb(), actor, await idParam(ctx, "id", NOT_FOUND)));
});
