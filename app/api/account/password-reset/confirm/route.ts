// POST /api/account/password-reset/confirm — set a new password with a reset link (every session ends; API tokens too with revokeTokens: true)
import { resetPassword } from "@/lib/accounts/password-reset";
import { getAppDb } from "@/lib/db";
import { getRequestContext } from "@/lib/http/context";
import { ok, readJson, withErrors } from "@/lib/http/handler";

export const POST = withErrors(async (req) => ok(await resetPassword(getAppDb(), await readJson(req), getRequestContext(req.headers))));
