// GET /api/v1/records/:id — a run's experiment record with its sha256 and outcome (?download=1: as a file); published ones without signing in
import { NextResponse } from "next/server";
import { idParam, parseQuery, type IdContext } from "@/lib/api/request";
import { getCurrentUser } from "@/lib/auth/guard";
import { actorOf } from "@/lib/access/actor";
import { getAppDb } from "@/lib/db";
import { exportOf, getRunRecord } from "@/lib/deployments/record-access";
import { getRequestContext } from "@/lib/http/context";
import { ok, withErrors } from "@/lib/http/handler";
import { recordGetQuerySchema } from "@/lib/validation/records";

export const GET = withErrors(async (req, ctx: IdContext) => {
  // Signed in or not: a published record is public. A credential that is sent must still be good.
  const current = await getCurrentUser();
  const actor = actorOf(current?.user ?? null, getRequestContext(req.headers));
  const { download } = parseQuery(recordGetQuerySchema, req);
  const view = await getRunRecord(getAppDb(), actor, await idParam(ctx, "id", "That run record does not exist, or you may not see it."));
  if (download !== "1" && download !== "true") return ok(view);
  return new NextResponse(`${JSON.stringify(exportOf(view), null, 2)}\n`, {
    headers: { "content-type": "application/json; charset=utf-8", "content-disposition": `attachment; filename="kiln-run-${view.id}.json"` },
  });
});
