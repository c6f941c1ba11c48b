// The Templates operations of the OpenAPI registry (lib/api/routes/index.ts joins the tags).
import * as common from "../../validation/common";
import * as templates from "../../validation/templates";
import { previewSchema, templateCreateSchema, templateDiffQuerySchema, templateGetQuerySchema, templateListQuerySchema, templateUpdateSchema, templateVersionCreateSchema } from "../../validation/templates";
import type { ApiResponse, ApiRoute } from "./api-route";
import { HOLDER_HOST_404 } from "./shapes";

const TEMPLATE_ID = { id: "The template's id (a UUID)." };
const TEMPLATE_404: ApiResponse = { status: 404, description: "No such template, or one the caller may not see (private templates are not acknowledged)." };

export const TEMPLATE_ROUTES: ApiRoute[] = [
  {
    method: "GET", path: "/api/v1/templates", operationId: "listTemplates", tag: "Templates", auth: "user",
    summary: "Templates the caller may use",
    description: "Built-in and public templates, the caller's own, and those shared with the caller's projects.",
    query: templateListQuerySchema,
    success: { status: 200, description: "`{ data }`: every template the caller may use (not paged).", schema: templates.templateListResponseSchema },
  },
  {
    method: "POST", path: "/api/v1/templates", operationId: "createTemplate", tag: "Templates", auth: "user",
    summary: "Create a template (its version 1)",
    description: "System templates are iPXE scripts; unattended ones are preseed, kickstart, cloud-init or script. A syntax error is refused with its line and column. Only administrators publish to everyone.",
    body: templateCreateSchema,
    success: { status: 201, description: "The new template.", schema: templates.templateViewSchema },
  },
  {
    method: "GET", path: "/api/v1/templates/{id}", operationId: "getTemplate", tag: "Templates", auth: "user", params: TEMPLATE_ID,
    summary: "A template with its source and version history",
    query: templateGetQuerySchema,
    success: { status: 200, description: "The template, the requested (default: latest) version's source, and its versions.", schema: templates.templateDetailSchema },
    errors: [TEMPLATE_404],
  },
  {
    method: "PATCH", path: "/api/v1/templates/{id}", operationId: "updateTemplate", tag: "Templates", auth: "user", params: TEMPLATE_ID,
    summary: "Rename a template, or change whom it is shared with (its owner, administrators)",
    body: templateUpdateSchema,
    success: { status: 200, description: "The template after the change.", schema: templates.templateViewSchema },
    errors: [{ status: 403, description: "A built-in template, or the caller may read it but does not own it." }, TEMPLATE_404],
  },
  {
    method: "DELETE", path: "/api/v1/templates/{id}", operationId: "deleteTemplate", tag: "Templates", auth: "user", params: TEMPLATE_ID,
    summary: "Delete a template (its owner, administrators)",
    success: { status: 200, description: "`{ ok: true }`.", schema: common.okResponseSchema },
    errors: [{ status: 403, description: "A built-in template, or the caller may read it but does not own it." }, TEMPLATE_404, { status: 409, description: "The template is in use." }],
  },
  {
    method: "GET", path: "/api/v1/templates/{id}/diff", operationId: "diffTemplateVersions", tag: "Templates", auth: "user", params: TEMPLATE_ID,
    summary: "Unified diff between two versions",
    query: templateDiffQuerySchema,
    success: { status: 200, description: "`{ diff }`.", schema: templates.templateDiffResponseSchema },
    errors: [{ status: 404, description: "No such template visible to the caller, or no such version." }],
  },
  {
    method: "POST", path: "/api/v1/templates/{id}/versions", operationId: "saveTemplateVersion", tag: "Templates", auth: "user", params: TEMPLATE_ID,
    summary: "Save new source as the next version (earlier versions never change)",
    body: templateVersionCreateSchema,
    success: { status: 201, description: "`{ id, version }`.", schema: templates.templateVersionResponseSchema },
    errors: [{ status: 403, description: "A built-in template, or the caller may read it but does not own it." }, TEMPLATE_404],
  },
  {
    method: "POST", path: "/api/v1/templates/preview", operationId: "previewTemplate", tag: "Templates", auth: "user",
    summary: "Render a saved template, or unsaved text, for a host the caller holds",
    description: "Template errors are part of the answer (`ok: false` with line and column), not an error status.",
    body: previewSchema,
    success: { status: 200, description: "`{ ok: true, output, warnings, bytes, variables }` or `{ ok: false, error: { message, line, column, kind, suggestions }, variables }`; `variables` lists what the template can use for this host (`{ name, value, type }`), and an undefined name is an error of kind `undefined` with the closest names in `suggestions`.", schema: templates.previewResponseSchema },
    errors: [HOLDER_HOST_404],
  },
];
