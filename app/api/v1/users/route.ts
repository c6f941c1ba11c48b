// GET /api/v1/users?q=&filter=&page= — admins list and search users
import { searchUsers } from "@/lib/accounts/admin";
import { requireAdmin } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, withErrors } from "@/lib/http/handler";

export const GET = withErrors(async (req) => {
  await requireAdmin();
  const query = Object.fromEntries(new URL(req.url).searchParams);
  return ok(await searchUsers(getAppDb(), query));
});
