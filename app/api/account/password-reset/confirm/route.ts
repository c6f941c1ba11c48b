// POST /api/account/password-reset/confirm — set a new password with a reset link
import { resetPassword } from "@/lib/accounts/password-reset";
import { getAppDb } from "@/lib/db";
import { ok, readJson, withErrors } from "@/lib/http/handler";

export const POST = withErrors(async (req) => ok(await resetPassword(getAppDb(), await readJson(req))));
