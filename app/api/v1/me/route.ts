// GET /api/v1/me — who the caller is (session or token) and the projects they belong to
import { toPublicUser } from "@/lib/users/user-view";
import { requireUser } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, withErrors } from "@/lib/http/handler";
import { getMyProjects } from "@/lib/projects/projects";

export const GET = withErrors(async () => {
  const { user, via } = await requireUser();
  return ok({ user: toPublicUser(user), via, projects: await getMyProjects(getAppDb(), user.id) });
});
