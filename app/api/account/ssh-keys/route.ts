// GET/POST /api/account/ssh-keys — list or add the caller's SSH public keys
import { addSshKey, getSshKeys } from "@/lib/accounts/profile";
import { requireUser } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, readJson, withErrors } from "@/lib/http/handler";

export const GET = withErrors(async () => {
  const { user } = await requireUser();
  return ok({ keys: await getSshKeys(getAppDb(), user.id) });
});

export const POST = withErrors(async (req) => {
  const { user } = await requireUser();
  return ok(await addSshKey(getAppDb(), user.id, await readJson(req)), 201);
});
