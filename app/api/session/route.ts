// POST /api/session — sign in (local or LDAP); DELETE /api/session — sign out
import { KILN_PROVIDER, signIn, signOut, unwrapAuthError } from "@/lib/auth/auth";
import { getCurrentUserOrNull } from "@/lib/auth/guard";
import { endSession } from "@/lib/auth/sessions";
import { getAppDb } from "@/lib/db";
import { errorResponse, ok, readJson, withErrors } from "@/lib/http/handler";
import { signInSchema } from "@/lib/validation/accounts";
import { parseInput } from "@/lib/validation/parse";

export const POST = withErrors(async (req) => {
  const input = parseInput(signInSchema, await readJson(req));
  try {
    await signIn(KILN_PROVIDER, { ...input, redirect: false });
  } catch (e) {
    return errorResponse(unwrapAuthError(e), req);
  }
  return ok({ ok: true });
});

export const DELETE = withErrors(async () => {
  const current = await getCurrentUserOrNull();
  if (current?.sessionId) await endSession(getAppDb(), current.sessionId);
  await signOut({ redirect: false });
  return ok({ ok: true });
});
