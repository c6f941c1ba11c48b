// GET /api/v1/leases — the caller's leases (admins: scope=all with filters); POST — lease hosts from a pool (admins: given hosts, for anyone)
import { parseQuery } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, readJson, withErrors } from "@/lib/http/handler";
import { createLease, listLeases } from "@/lib/leases/leases";
import { leaseListQuerySchema } from "@/lib/validation/leases";

export const GET = withErrors(async (req) => {
  const actor = await requireActor(req);
  return ok(await listLeases(getAppDb(), actor, parseQuery(leaseListQuerySchema, req)));
});

export const POST = withErrors(async (req) => {
  const actor = await requireActor(req);
  return ok(await createLease(getAppDb(), actor, await readJson(req)), 201);
});
