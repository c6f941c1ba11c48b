// GET /api/v1/directory/status — admins: is a directory configured, does Kiln's bind work, does the people OU exist
import { requireActor } from "@/lib/auth/guard";
import { getDirectoryStatusAsAdmin } from "@/lib/directory/admin";
import { ok, withErrors } from "@/lib/http/handler";

export const GET = withErrors(async (req) => {
  const actor = await requireActor(req);
  return ok(await getDirectoryStatusAsAdmin(actor));
});
