// POST /api/account/verify — spend an email verification link
import { verifyEmail } from "@/lib/accounts/verification";
import { getAppDb } from "@/lib/db";
import { ok, readJson, withErrors } from "@/lib/http/handler";
import { verifyEmailSchema } from "@/lib/validation/accounts";
import { parseInput } from "@/lib/validation/parse";

export const POST = withErrors(async (req) => {
  const { token } = parseInput(verifyEmailSchema, await readJson(req));
  return ok(await verifyEmail(getAppDb(), token));
});
