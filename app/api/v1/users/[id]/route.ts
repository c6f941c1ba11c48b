// PATCH /api/v1/users/:id — admins change role, disable/enable or approve a user
import { z } from "zod";
import { updateUserAsAdmin } from "@/lib/accounts/admin";
import { requireAdmin } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { getRequestContext } from "@/lib/http/context";
import { ok, readJson, withErrors } from "@/lib/http/handler";
import { parseInput } from "@/lib/validation/parse";

export const PATCH = withErrors(async (req, ctx: { params: Promise<{ id: string }> }) => {
  const { user } = await requireAdmin();
  const id = parseInput(z.uuid("That user does not exist."), (await ctx.params).id);
  return ok(await updateUserAsAdmin(getAppDb(), user, id, await readJson(req), getRequestContext(req.headers)));
});
