// GET /api/v1/records — run records the caller may read, of a host (?hostId=) or a project (?projectId=), newest first
import { parseQuery } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { listRunRecords } from "@/lib/deployments/record-access";
import { ok, withErrors } from "@/lib/http/handler";
import { recordListQuerySchema } from "@/lib/validation/records";

export const GET = withErrors(async (req) => {
  const actor = await requireActor(req);
  return ok(await listRunRecords(getAppDb(), actor, parseQuery(recordListQuerySchema, req)));
});
