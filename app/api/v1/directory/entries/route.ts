// GET /api/v1/directory/entries — admins: the directory entries Kiln manages, with their sync state and errors
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { listDirectoryEntriesAsAdmin } from "@/lib/directory/admin";
import { ok, withErrors } from "@/lib/http/handler";

export const GET = withErrors(async (req) => {
  const actor = await requireActor(req);
  return ok(await listDirectoryEntriesAsAdmin(getAppDb(), actor));
});
