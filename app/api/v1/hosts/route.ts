// GET /api/v1/hosts — list hosts (admins: all; others: the ones they hold); POST — admins add a host
import { requireActor } from "@/lib/auth/guard";
import { createHost, listHosts } from "@/lib/hosts/hosts";
import { getAppDb } from "@/lib/db";
import { parseQuery } from "@/lib/api/request";
import { ok, readJson, withErrors } from "@/lib/http/handler";
import { hostListQuerySchema } from "@/lib/validation/inventory";

export const GET = withErrors(async (req) => {
  const actor = await requireActor(req);
  return ok(await listHosts(getAppDb(), actor, parseQuery(hostListQuerySchema, req)));
});

export const POST = withErrors(async (req) => {
  const actor = await requireActor(req);
  return ok(await createHost(getAppDb(), actor, await readJson(req)), 201);
});
