// GET /api/v1/openapi.json — the OpenAPI 3.1 description of this API, built from the same zod schemas the handlers use
import { getOpenApiDocument } from "@/lib/api/openapi";
import { ok, withErrors } from "@/lib/http/handler";

export const GET = withErrors(async () => ok(getOpenApiDocument()));
