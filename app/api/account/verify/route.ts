// POST /api/account/verify — spend an email verification link
import { z } from "zod";
import { verifyEmail } from "@/lib/accounts/verification";
import { getAppDb } from "@/lib/db";
import { ok, readJson, withErrors } from "@/lib/http/handler";
import { parseInput } from "@/lib/validation/parse";

const bodySchema = z.object({ token: z.string().max(200) });

export const POST = withErrors(async (req) => {
  const { token } = parseInput(bodySchema, await readJson(req));
  return ok(await verifyEmail(getAppDb(), token));
});
