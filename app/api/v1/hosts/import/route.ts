// POST /api/v1/hosts/import — admins import many hosts at once from CSV or JSON (all or nothing; dryRun previews)
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { importHosts } from "@/lib/hosts/import";
import { HOST_IMPORT_MAX_BYTES, ok, readJson, withErrors } from "@/lib/http/handler";

export const POST = withErrors(async (req) => {
  const actor = await requireActor(req);
  const result = await importHosts(getAppDb(), actor, await readJson(req, HOST_IMPORT_MAX_BYTES));
  return ok(result, result.dryRun ? 200 : 201);
});
