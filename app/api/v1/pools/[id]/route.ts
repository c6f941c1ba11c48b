// GET/PATCH/DELETE /api/v1/pools/:id — a pool (any signed-in user); admins change or delete it
import { idParam, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, readJson, withErrors } from "@/lib/http/handler";
import { deletePool, getPool, updatePool } from "@/lib/pools/pools";

const NOT_FOUND = "That pool does not exist.";

export const GET = withErrors(async (req, ctx: IdContext) => {
  await requireActor(req);
  return ok(await getPool(getAppDb(), await idParam(ctx, "id", NOT_FOUND)));
});

export const PATCH = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  return ok(await updatePool(getAppDb(), actor, await idParam(ctx, "id", NOT_FOUND), await readJson(req)));
});

export const DELETE = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  await deletePool(getAppDb(), actor, await idParam(ctx, "id", NOT_FOUND));
  return ok({ ok: true });
});
