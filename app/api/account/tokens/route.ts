// GET/POST /api/account/tokens — list or create the caller's personal access tokens
import { createApiToken, getApiTokens } from "@/lib/auth/api-tokens";
import { requireUser } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, readJson, withErrors } from "@/lib/http/handler";

export const GET = withErrors(async () => {
  const { user } = await requireUser();
  return ok({ tokens: await getApiTokens(getAppDb(), user.id) });
});

export const POST = withErrors(async (req) => {
  const { user } = await requireUser();
  return ok(await createApiToken(getAppDb(), user.id, await readJson(req)), 201);
});
