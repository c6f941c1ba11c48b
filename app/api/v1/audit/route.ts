// GET /api/v1/audit — admins search the audit log (actor, action, target, time range)
import { parseQuery } from "@/lib/api/request";
import { searchAudit } from "@/lib/audit/audit";
import { requireAdmin } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, withErrors } from "@/lib/http/handler";
import { auditListQuerySchema } from "@/lib/validation/audit";

export const GET = withErrors(async (req) => {
  // searchAudit takes no actor: this guard is the only check.
  await requireAdmin();
  return ok(await searchAudit(getAppDb(), parseQuery(auditListQuerySchema, req)));
});
