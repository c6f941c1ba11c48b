// POST /api/v1/projects/:id/members — admins and the project's leaders add a member (by email or userId)
import { idParam, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, readJson, withErrors } from "@/lib/http/handler";
import { addProjectMember } from "@/lib/projects/projects";

export const POST = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  const id = await idParam(ctx, "id", "That project does not exist, or you are not a member.");
  return ok(await addProjectMember(getAppDb(), actor, id, await readJson(req)), 201);
});
