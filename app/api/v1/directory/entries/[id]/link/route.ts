// POST /api/v1/directory/entries/:id/link — admins: an entry Kiln refused (it was there before) is this person's; manage it from now on
import { idParam, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { linkDirectoryEntryAsAdmin } from "@/lib/directory/admin";
import { ok, withErrors } from "@/lib/http/handler";

export const POST = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  return ok(await linkDirectoryEntryAsAdmin(getAppDb(), actor, await idParam(ctx, "id", "That directory entry does not exist.")));
});
