// GET /api/v1/users?q=&filter=&page=&per_page= — admins list and search users
import { parseQuery } from "@/lib/api/request";
import { searchUsers } from "@/lib/accounts/admin";
import { requireAdmin } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, withErrors } from "@/lib/http/handler";
import { userListQuerySchema } from "@/lib/validation/accounts";

export const GET = withErrors(async (req) => {
  await requireAdmin();
  return ok(await searchUsers(getAppDb(), parseQuery(userListQuerySchema, req)));
});
