// The Projects operations of the OpenAPI registry (lib/api/routes/index.ts joins the tags).
import * as projects from "../../validation/projects";
import { paginationSchema } from "../../validation/common";
import { projectCreateSchema, projectMemberAddSchema, projectUpdateSchema } from "../../validation/projects";
import { PROJECT_404, OK_TRUE, conflict, created, forbidden, idParam, notFound, ok, paged, tagRoutes } from "./shapes";

const PROJECT_ID = idParam("project");
const NOT_LEADER = forbidden("The caller is a member but not a leader of this project.");
const NO_SUCH_PROJECT = notFound("No such project.");

export const PROJECT_ROUTES = tagRoutes("Projects", [
  {
    method: "GET", path: "/api/v1/projects", operationId: "listProjects", auth: "user",
    summary: "List projects",
    description: "Administrators see every project; anyone else the projects they belong to. Each with its quotas and current usage.",
    query: paginationSchema,
    success: paged("A page of projects.", projects.projectListResponseSchema),
  },
  {
    method: "POST", path: "/api/v1/projects", operationId: "createProject", auth: "admin",
    summary: "Create a project",
    description: "Quotas are optional; null means no limit.",
    body: projectCreateSchema,
    success: created("The new project.", projects.projectViewSchema),
  },
  {
    method: "GET", path: "/api/v1/projects/{id}", operationId: "getProject", auth: "user", params: PROJECT_ID,
    summary: "A project with its members and usage",
    success: ok("The project, the caller's role in it, usage and members.", projects.projectDetailSchema),
    errors: [PROJECT_404],
  },
  {
    method: "PATCH", path: "/api/v1/projects/{id}", operationId: "updateProject", auth: "admin", params: PROJECT_ID,
    summary: "Change a project's name, description or quotas",
    body: projectUpdateSchema,
    success: ok("The project after the change.", projects.projectViewSchema),
    errors: [NO_SUCH_PROJECT],
  },
  {
    method: "DELETE", path: "/api/v1/projects/{id}", operationId: "deleteProject", auth: "admin", params: PROJECT_ID,
    summary: "Delete a project",
    success: OK_TRUE,
    errors: [NO_SUCH_PROJECT, conflict("The project has leases on record, which must be kept.")],
  },
  {
    method: "POST", path: "/api/v1/projects/{id}/members", operationId: "addProjectMember", auth: "user", params: PROJECT_ID,
    summary: "Add a member (administrators and the project's leaders)",
    description: "Name the person by `email` or `userId`; they must have signed in or registered once. Adding an existing member changes their role.",
    body: projectMemberAddSchema,
    success: created("`{ userId, email, role }`.", projects.projectMemberResponseSchema),
    errors: [NOT_LEADER, PROJECT_404],
  },
  {
    method: "DELETE", path: "/api/v1/projects/{id}/members/{userId}", operationId: "removeProjectMember", auth: "user",
    params: { ...PROJECT_ID, userId: "The member's user id (a UUID)." },
    summary: "Remove a member (administrators and the project's leaders)",
    success: OK_TRUE,
    errors: [NOT_LEADER, notFound("No such project visible to the caller, or that person is not a member.")],
  },
]);
