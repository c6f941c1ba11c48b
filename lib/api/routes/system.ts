// The System operations of the OpenAPI registry (lib/api/routes/index.ts joins the tags).
import { z } from "zod";
import * as accounts from "../../validation/accounts";
import * as common from "../../validation/common";
import type { ApiRoute } from "./api-route";

const OPENAPI_DOCUMENT = z.object({ openapi: z.literal("3.1.0"), info: common.recordSchema, paths: common.recordSchema, components: common.recordSchema });

export const SYSTEM_ROUTES: ApiRoute[] = [
  {
    method: "GET", path: "/api/health", operationId: "getHealth", tag: "System", auth: "public",
    summary: "Liveness and database reachability",
    success: { status: 200, description: "`{ ok: true, database: \"up\" }`.", schema: accounts.healthResponseSchema },
    errors: [{ status: 503, description: "The database cannot be reached." }],
  },
  {
    method: "GET", path: "/api/v1/openapi.json", operationId: "getOpenApiDocument", tag: "System", auth: "public",
    summary: "This document",
    success: { status: 200, description: "The OpenAPI 3.1 document.", schema: OPENAPI_DOCUMENT },
  },
];
