// POST /api/v1/directory/resync — admins: write every entry again (puts back what was changed by hand)
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { resyncDirectoryAsAdmin } from "@/lib/directory/admin";
import { ok, withErrors } from "@/lib/http/handler";

export const POST = withErrors(async (req) => {
  const actor = await requireActor(req);
  return ok(await resyncDirectoryAsAdmin(getAppDb(), actor));
});
