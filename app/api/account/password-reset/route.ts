// POST /api/account/password-reset — mail a reset link (same answer whether or not the account exists)
import { requestPasswordReset } from "@/lib/accounts/password-reset";
import { getAppDb } from "@/lib/db";
import { getRequestContext } from "@/lib/http/context";
import { ok, readJson, withErrors } from "@/lib/http/handler";

export const POST = withErrors(async (req) => {
  await requestPasswordReset(getAppDb(), await readJson(req), getRequestContext(req.headers));
  return ok({ ok: true }, 202);
});
