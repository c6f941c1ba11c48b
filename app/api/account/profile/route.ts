// PATCH /api/account/profile — change the caller's display name
import { updateProfile } from "@/lib/accounts/profile";
import { requireUser } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, readJson, withErrors } from "@/lib/http/handler";

export const PATCH = withErrors(async (req) => {
  const { user } = await requireUser();
  await updateProfile(getAppDb(), user, await readJson(req));
  return ok({ ok: true });
});
