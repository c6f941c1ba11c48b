// GET /api/v1/sites — admins list the sites with their boot URL and host count; POST — admins create one
import { pageOf, parseQuery } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, readJson, withErrors } from "@/lib/http/handler";
import { createSite, listSites } from "@/lib/sites/sites";
import { paginationSchema } from "@/lib/validation/common";

export const GET = withErrors(async (req) => {
  const actor = await requireActor(req);
  const page = parseQuery(paginationSchema, req);
  return ok(pageOf(await listSites(getAppDb(), actor), page));
});

export const POST = withErrors(async (req) => {
  const actor = await requireActor(req);
  return ok(await createSite(getAppDb(), actor, await readJson(req)), 201);
});
