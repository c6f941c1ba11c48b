// The Audit operations of the OpenAPI registry (lib/api/routes/index.ts joins the tags).
import * as audit from "../../validation/audit";
import { auditListQuerySchema } from "../../validation/audit";
import { paged, tagRoutes } from "./shapes";

export const AUDIT_ROUTES = tagRoutes("Audit", [
  {
    method: "GET", path: "/api/v1/audit", operationId: "searchAudit", auth: "admin",
    summary: "Search the audit log",
    description: "`actor` matches part of the actor's email; `action` matches an action or its prefix (`lease` finds `lease.create`, `lease.release`…); `from`/`to` are ISO 8601 times.",
    query: auditListQuerySchema,
    success: paged("A page of entries, newest first.", audit.auditListResponseSchema),
  },
]);
