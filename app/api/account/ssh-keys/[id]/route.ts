// DELETE /api/account/ssh-keys/:id — remove one of the caller's SSH keys
import { z } from "zod";
import { removeSshKey } from "@/lib/accounts/profile";
import { requireUser } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, withErrors } from "@/lib/http/handler";
import { parseInput } from "@/lib/validation/parse";

export const DELETE = withErrors(async (_req, ctx: { params: Promise<{ id: string }> }) => {
  const { user } = await requireUser();
  const id = parseInput(z.uuid("Unknown key."), (await ctx.params).id);
  await removeSshKey(getAppDb(), user.id, id);
  return ok({ ok: true });
});
