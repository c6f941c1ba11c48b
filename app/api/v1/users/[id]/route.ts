// PATCH /api/v1/users/:id — admins change role, disable/enable or approve a user
import { idParam, type IdContext } from "@/lib/api/request";
import { updateUserAsAdmin } from "@/lib/accounts/admin";
import { requireAdmin } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { getRequestContext } from "@/lib/http/context";
import { ok, readJson, withErrors } from "@/lib/http/handler";

export const PATCH = withErrors(async (req, ctx: IdContext) => {
  const { user } = await requireAdmin();
  const id = await idParam(ctx, "id", "That user does not exist.");
  return ok(await updateUserAsAdmin(getAppDb(), user, id, await readJson(req), getRequestContext(req.headers)));
});
