// GET /api/v1/images?q=&page=&per_page= — images the caller may see; POST — create one (no versions yet)
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, readJson, withErrors } from "@/lib/http/handler";
import { createImage, listImages } from "@/lib/images/images";

export const GET = withErrors(async (req) => {
  const actor = await requireActor(req);
  return ok(await listImages(getAppDb(), actor, Object.fromEntries(new URL(req.url).searchParams)));
});

export const POST = withErrors(async (req) => {
  const actor = await requireActor(req);
  return ok(await createImage(getAppDb(), actor, await readJson(req)), 201);
});
