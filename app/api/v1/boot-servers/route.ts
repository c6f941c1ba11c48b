// GET /api/v1/boot-servers — admins see every boot server: site, URL, status from its heartbeat, request rate and errors
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, withErrors } from "@/lib/http/handler";
import { listBootServers } from "@/lib/sites/sites";

export const GET = withErrors(async (req) => {
  const actor = await requireActor(req);
  return ok({ data: await listBootServers(getAppDb(), actor) });
});
