// The Audit operations of the OpenAPI registry (lib/api/routes/index.ts joins the tags).
import * as inventory from "../../validation/inventory";
import { auditListQuerySchema } from "../../validation/inventory";
import type { ApiRoute } from "./api-route";

export const AUDIT_ROUTES: ApiRoute[] = [
  {
    method: "GET", path: "/api/v1/audit", operationId: "searchAudit", tag: "Audit", auth: "admin",
    summary: "Search the audit log",
    description: "`actor` matches part of the actor's email; `action` matches an action or its prefix (`lease` finds `lease.create`, `lease.release`…); `from`/`to` are ISO 8601 times.",
    query: auditListQuerySchema,
    success: { status: 200, description: "A page of entries, newest first.", list: true, schema: inventory.auditListResponseSchema },
  },
];
