// DELETE /api/v1/projects/:id/members/:userId — admins and the project's leaders remove a member
import { idParam, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, withErrors } from "@/lib/http/handler";
import { removeProjectMember } from "@/lib/projects/projects";

export const DELETE = withErrors(async (req, ctx: IdContext<"id" | "userId">) => {
  const actor = await requireActor(req);
  const id = await idParam(ctx, "id", "That project does not exist, or you are not a member.");
  const userId = await idParam(ctx, "userId", "That person is not a member of this project.");
  await removeProjectMember(getAppDb(), actor, id, userId);
  return ok({ ok: true });
});
