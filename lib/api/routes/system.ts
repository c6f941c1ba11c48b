// The System operations of the OpenAPI registry (lib/api/routes/index.ts joins the tags).
import { z } from "zod";
import * as accounts from "../../validation/accounts";
import * as common from "../../validation/common";
import { ok, tagRoutes, unavailable } from "./shapes";

const OPENAPI_DOCUMENT = z.object({ openapi: z.literal("3.1.0"), info: common.recordSchema, paths: common.recordSchema, components: common.recordSchema });

export const SYSTEM_ROUTES = tagRoutes("System", [
  {
    method: "GET", path: "/api/health", operationId: "getHealth", auth: "public",
    summary: "Liveness and database reachability",
    success: ok("`{ ok: true, database: \"up\" }`.", accounts.healthResponseSchema),
    errors: [unavailable("The database cannot be reached.")],
  },
  {
    method: "GET", path: "/api/v1/openapi.json", operationId: "getOpenApiDocument", auth: "public",
    summary: "This document",
    success: ok("The OpenAPI 3.1 document.", OPENAPI_DOCUMENT),
  },
]);
