// The Templates operations of the OpenAPI registry (lib/api/routes/index.ts joins the tags).
import * as templates from "../../validation/templates";
import { previewSchema, templateCreateSchema, templateDiffQuerySchema, templateGetQuerySchema, templateListQuerySchema, templateUpdateSchema, templateVersionCreateSchema } from "../../validation/templates";
import { HOLDER_HOST_404, OK_TRUE, conflict, created, forbidden, idParam, notFound, ok, tagRoutes } from "./shapes";

const TEMPLATE_ID = idParam("template");
const TEMPLATE_404 = notFound("No such template, or one the caller may not see (private templates are not acknowledged).");
const NOT_OWNER = forbidden("A built-in template, or the caller may read it but does not own it.");

export const TEMPLATE_ROUTES = tagRoutes("Templates", [
  {
    method: "GET", path: "/api/v1/templates", operationId: "listTemplates", auth: "user",
    summary: "Templates the caller may use",
    description: "Built-in and public templates, the caller's own, and those shared with the caller's projects.",
    query: templateListQuerySchema,
    success: ok("`{ data }`: every template the caller may use (not paged).", templates.templateListResponseSchema),
  },
  {
    method: "POST", path: "/api/v1/templates", operationId: "createTemplate", auth: "user",
    summary: "Create a template (its version 1)",
    description: "System templates are iPXE scripts; unattended ones are preseed, kickstart, cloud-init or script. A syntax error is refused with its line and column. Only administrators publish to everyone.",
    body: templateCreateSchema,
    success: created("The new template.", templates.templateViewSchema),
  },
  {
    method: "GET", path: "/api/v1/templates/{id}", operationId: "getTemplate", auth: "user", params: TEMPLATE_ID,
    summary: "A template with its source and version history",
    query: templateGetQuerySchema,
    success: ok("The template, the requested (default: latest) version's source, and its versions.", templates.templateDetailSchema),
    errors: [TEMPLATE_404],
  },
  {
    method: "PATCH", path: "/api/v1/templates/{id}", operationId: "updateTemplate", auth: "user", params: TEMPLATE_ID,
    summary: "Rename a template, or change whom it is shared with (its owner, administrators)",
    body: templateUpdateSchema,
    success: ok("The template after the change.", templates.templateViewSchema),
    errors: [NOT_OWNER, TEMPLATE_404],
  },
  {
    method: "DELETE", path: "/api/v1/templates/{id}", operationId: "deleteTemplate", auth: "user", params: TEMPLATE_ID,
    summary: "Delete a template (its owner, administrators)",
    success: OK_TRUE,
    errors: [NOT_OWNER, TEMPLATE_404, conflict("The template is in use.")],
  },
  {
    method: "GET", path: "/api/v1/templates/{id}/diff", operationId: "diffTemplateVersions", auth: "user", params: TEMPLATE_ID,
    summary: "Unified diff between two versions",
    query: templateDiffQuerySchema,
    success: ok("`{ diff }`.", templates.templateDiffResponseSchema),
    errors: [notFound("No such template visible to the caller, or no such version.")],
  },
  {
    method: "POST", path: "/api/v1/templates/{id}/versions", operationId: "saveTemplateVersion", auth: "user", params: TEMPLATE_ID,
    summary: "Save new source as the next version (earlier versions never change)",
    body: templateVersionCreateSchema,
    success: created("`{ id, version }`.", templates.templateVersionResponseSchema),
    errors: [NOT_OWNER, TEMPLATE_404],
  },
  {
    method: "POST", path: "/api/v1/templates/preview", operationId: "previewTemplate", auth: "user",
    summary: "Render a saved template, or unsaved text, for a host the caller holds",
    description: "Template errors are part of the answer (`ok: false` with line and column), not an error status.",
    body: previewSchema,
    success: ok("`{ ok: true, output, warnings, bytes, variables }` or `{ ok: false, error: { message, line, column, kind, suggestions }, variables }`; `variables` lists what the template can use for this host (`{ name, value, type }`), and an undefined name is an error of kind `undefined` with the closest names in `suggestions`.", templates.previewResponseSchema),
    errors: [HOLDER_HOST_404],
  },
]);
