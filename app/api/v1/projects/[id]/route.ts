// GET/PATCH/DELETE /api/v1/projects/:id — a project with members and usage (members, admins); admins change or delete it
import { idParam, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, readJson, withErrors } from "@/lib/http/handler";
import { deleteProject, getProject, updateProject } from "@/lib/projects/projects";

const NOT_FOUND = "That project does not exist, or you are not a member.";

export const GET = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  return ok(await getProject(getAppDb(), actor, await idParam(ctx, "id", NOT_FOUND)));
});

export const PATCH = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  return ok(await updateProject(getAppDb(), actor, await idParam(ctx, "id", NOT_FOUND), await readJson(req)));
});

export const DELETE = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  await deleteProject(getAppDb(), actor, await idParam(ctx, "id", NOT_FOUND));
  return ok({ ok: true });
});
