// GET /api/v1/images/:id/versions/:version (a number or `latest`) — one version with the deployments that used it; PATCH — notes; DELETE
import { idParam, versionParam, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, readJson, withErrors } from "@/lib/http/handler";
import { deleteImageVersion, getImageVersion, IMAGE_NOT_FOUND, updateImageVersion } from "@/lib/images/images";

type Ctx = IdContext<"id" | "version">;

async function target(ctx: Ctx) {
  return { id: await idParam(ctx, "id", IMAGE_NOT_FOUND), version: await versionParam(ctx, "version", "No such version.") };
}

export const GET = withErrors(async (req, ctx: Ctx) => {
  const actor = await requireActor(req);
  const { id, version } = await target(ctx);
  return ok(await getImageVersion(getAppDb(), actor, id, version));
});

export const PATCH = withErrors(async (req, ctx: Ctx) => {
  const actor = await requireActor(req);
  const { id, version } = await target(ctx);
  return ok(await updateImageVersion(getAppDb(), actor, id, version, await readJson(req)));
});

export const DELETE = withErrors(async (req, ctx: Ctx) => {
  const actor = await requireActor(req);
  const { id, version } = await target(ctx);
  return ok({ ok: true, ...(await deleteImageVersion(getAppDb(), actor, id, version)) });
});
