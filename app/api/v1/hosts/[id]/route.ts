// GET/PATCH/DELETE /api/v1/hosts/:id — a host with its history (admins, or its current holder); admins change or delete it
import { idParam, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { deleteHost, getHostDetail, updateHost } from "@/lib/hosts/hosts";
import { ok, readJson, withErrors } from "@/lib/http/handler";

const NOT_FOUND = "That host does not exist.";

export const GET = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  return ok(await getHostDetail(getAppDb(), actor, await idParam(ctx, "id", NOT_FOUND)));
});

export const PATCH = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  return ok(await updateHost(getAppDb(), actor, await idParam(ctx, "id", NOT_FOUND), await readJson(req)));
});

export const DELETE = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  await deleteHost(getAppDb(), actor, await idParam(ctx, "id", NOT_FOUND));
  return ok({ ok: true });
});
