// PATCH/DELETE /api/v1/users/:id — admins change role, disable/enable or approve a user, or delete them
import { idParam, type IdContext } from "@/lib/api/request";
import { deleteUserAsAdmin, updateUserAsAdmin } from "@/lib/accounts/admin";
import { requireAdmin } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { getRequestContext } from "@/lib/http/context";
import { ok, readJson, withErrors } from "@/lib/http/handler";

const NOT_FOUND = "That user does not exist.";

export const PATCH = withErrors(async (req, ctx: IdContext) => {
  const { user } = await requireAdmin();
  const id = await idParam(ctx, "id", NOT_FOUND);
  return ok(await updateUserAsAdmin(getAppDb(), user, id, await readJson(req), getRequestContext(req.headers)));
});

export const DELETE = withErrors(async (req, ctx: IdContext) => {
  const { user } = await requireAdmin();
  const { outcome } = await deleteUserAsAdmin(getAppDb(), user, await idParam(ctx, "id", NOT_FOUND), getRequestContext(req.headers));
  return ok({ ok: true, outcome });
});
