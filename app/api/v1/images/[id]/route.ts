// GET /api/v1/images/:id — an image with its versions; PATCH — name, description, sharing; DELETE — with every version and its bytes
import { idParam, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, readJson, withErrors } from "@/lib/http/handler";
import { deleteImage, getImage, IMAGE_NOT_FOUND, updateImage } from "@/lib/images/images";

export const GET = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  return ok(await getImage(getAppDb(), actor, await idParam(ctx, "id", IMAGE_NOT_FOUND)));
});

export const PATCH = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  const id = await idParam(ctx, "id", IMAGE_NOT_FOUND);
  return ok(await updateImage(getAppDb(), actor, id, await readJson(req)));
});

export const DELETE = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  await deleteImage(getAppDb(), actor, await idParam(ctx, "id", IMAGE_NOT_FOUND));
  return ok({ ok: true });
});
