// The Projects operations of the OpenAPI registry (lib/api/routes/index.ts joins the tags).
import * as common from "../../validation/common";
import * as inventory from "../../validation/inventory";
import { paginationSchema } from "../../validation/common";
import { projectCreateSchema, projectMemberAddSchema, projectUpdateSchema } from "../../validation/inventory";
import type { ApiRoute } from "./api-route";
import { PROJECT_404 } from "./shapes";

const PROJECT_ID = { id: "The project's id (a UUID)." };

export const PROJECT_ROUTES: ApiRoute[] = [
  {
    method: "GET", path: "/api/v1/projects", operationId: "listProjects", tag: "Projects", auth: "user",
    summary: "List projects",
    description: "Administrators see every project; anyone else the projects they belong to. Each with its quotas and current usage.",
    query: paginationSchema,
    success: { status: 200, description: "A page of projects.", list: true, schema: inventory.projectListResponseSchema },
  },
  {
    method: "POST", path: "/api/v1/projects", operationId: "createProject", tag: "Projects", auth: "admin",
    summary: "Create a project",
    description: "Quotas are optional; null means no limit.",
    body: projectCreateSchema,
    success: { status: 201, description: "The new project.", schema: inventory.projectViewSchema },
  },
  {
    method: "GET", path: "/api/v1/projects/{id}", operationId: "getProject", tag: "Projects", auth: "user", params: PROJECT_ID,
    summary: "A project with its members and usage",
    success: { status: 200, description: "The project, the caller's role in it, usage and members.", schema: inventory.projectDetailSchema },
    errors: [PROJECT_404],
  },
  {
    method: "PATCH", path: "/api/v1/projects/{id}", operationId: "updateProject", tag: "Projects", auth: "admin", params: PROJECT_ID,
    summary: "Change a project's name, description or quotas",
    body: projectUpdateSchema,
    success: { status: 200, description: "The project after the change.", schema: inventory.projectViewSchema },
    errors: [{ status: 404, description: "No such project." }],
  },
  {
    method: "DELETE", path: "/api/v1/projects/{id}", operationId: "deleteProject", tag: "Projects", auth: "admin", params: PROJECT_ID,
    summary: "Delete a project",
    success: { status: 200, description: "`{ ok: true }`.", schema: common.okResponseSchema },
    errors: [{ status: 404, description: "No such project." }, { status: 409, description: "The project has leases on record, which must be kept." }],
  },
  {
    method: "POST", path: "/api/v1/projects/{id}/members", operationId: "addProjectMember", tag: "Projects", auth: "user", params: PROJECT_ID,
    summary: "Add a member (administrators and the project's leaders)",
    description: "Name the person by `email` or `userId`; they must have signed in or registered once. Adding an existing member changes their role.",
    body: projectMemberAddSchema,
    success: { status: 201, description: "`{ userId, email, role }`.", schema: inventory.projectMemberResponseSchema },
    errors: [{ status: 403, description: "The caller is a member but not a leader of this project." }, PROJECT_404],
  },
  {
    method: "DELETE", path: "/api/v1/projects/{id}/members/{userId}", operationId: "removeProjectMember", tag: "Projects", auth: "user",
    params: { ...PROJECT_ID, userId: "The member's user id (a UUID)." },
    summary: "Remove a member (administrators and the project's leaders)",
    success: { status: 200, description: "`{ ok: true }`.", schema: common.okResponseSchema },
    errors: [{ status: 403, description: "The caller is a member but not a leader of this project." }, { status: 404, description: "No such project visible to the caller, or that person is not a member." }],
  },
];
