// POST /api/account/password — change the caller's password (other sessions end)
import { changePassword } from "@/lib/accounts/profile";
import { requireUser } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, readJson, withErrors } from "@/lib/http/handler";

export const POST = withErrors(async (req) => {
  const { user, sessionId } = await requireUser();
  await changePassword(getAppDb(), user, await readJson(req), sessionId ?? undefined);
  return ok({ ok: true });
});
