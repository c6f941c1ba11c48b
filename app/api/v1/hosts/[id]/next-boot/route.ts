// GET /api/v1/hosts/:id/next-boot — what the machine does at its next network boot (run, disk, halt and why); POST — boot the disk anyway (ends a halt)
import { idParam, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { allowDiskBoot, getNextBoot } from "@/lib/deployments/next-boot";
import { getAppDb } from "@/lib/db";
import { ok, withErrors } from "@/lib/http/handler";

const NOT_FOUND = "That host does not exist.";

export const GET = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  return ok(await getNextBoot(getAppDb(), actor, await idParam(ctx, "id", NOT_FOUND)));
});

export const POST = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  return ok(await allowDiskBoot(getAppDb(), actor, await idParam(ctx, "id", NOT_FOUND)));
});
