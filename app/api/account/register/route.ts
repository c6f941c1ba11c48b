// POST /api/account/register — create an account and mail its verification link
import { registerUser } from "@/lib/accounts/register";
import { getAppDb } from "@/lib/db";
import { getRequestContext } from "@/lib/http/context";
import { ok, readJson, withErrors } from "@/lib/http/handler";

export const POST = withErrors(async (req) => {
  const result = await registerUser(getAppDb(), await readJson(req), getRequestContext(req.headers));
  return ok(result, 202);
});
