// GET /api/v1/projects — projects with usage (admins: all; others: their own); POST — admins create one
import { pageOf, parseQuery } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, readJson, withErrors } from "@/lib/http/handler";
import { createProject, listProjects } from "@/lib/projects/projects";
import { paginationSchema } from "@/lib/validation/common";

export const GET = withErrors(async (req) => {
  const actor = await requireActor(req);
  const page = parseQuery(paginationSchema, req);
  return ok(pageOf(await listProjects(getAppDb(), actor), page));
});

export const POST = withErrors(async (req) => {
  const actor = await requireActor(req);
  return ok(await createProject(getAppDb(), actor, await readJson(req)), 201);
});
