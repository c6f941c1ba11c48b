// POST /api/account/password — change the caller's password (other sessions end; API tokens too with revokeTokens: true)
import { changePassword } from "@/lib/accounts/profile";
import { requireUser } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { getRequestContext } from "@/lib/http/context";
import { ok, readJson, withErrors } from "@/lib/http/handler";

export const POST = withErrors(async (req) => {
  const { user, sessionId } = await requireUser();
  const result = await changePassword(getAppDb(), user, await readJson(req), { keepSessionId: sessionId ?? undefined, ctx: getRequestContext(req.headers) });
  return ok({ ok: true, ...result });
});
