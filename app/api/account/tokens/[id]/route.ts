// DELETE /api/account/tokens/:id — revoke one of the caller's tokens
import { z } from "zod";
import { revokeOwnApiToken } from "@/lib/auth/api-tokens";
import { requireUser } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, withErrors } from "@/lib/http/handler";
import { parseInput } from "@/lib/validation/parse";

export const DELETE = withErrors(async (_req, ctx: { params: Promise<{ id: string }> }) => {
  const { user } = await requireUser();
  const id = parseInput(z.uuid("Unknown token."), (await ctx.params).id);
  await revokeOwnApiToken(getAppDb(), user.id, id);
  return ok({ ok: true });
});
