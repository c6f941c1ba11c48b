// GET /api/v1/pools — every signed-in user sees the pools, their policy and free hosts; POST — admins create one
import { pageOf, parseQuery } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, readJson, withErrors } from "@/lib/http/handler";
import { createPool, listPools } from "@/lib/pools/pools";
import { paginationSchema } from "@/lib/validation/common";

export const GET = withErrors(async (req) => {
  await requireActor(req);
  const page = parseQuery(paginationSchema, req);
  return ok(pageOf(await listPools(getAppDb()), page));
});

export const POST = withErrors(async (req) => {
  const actor = await requireActor(req);
  return ok(await createPool(getAppDb(), actor, await readJson(req)), 201);
});
