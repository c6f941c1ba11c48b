// Builds the OpenAPI 3.1 document from the route registry (lib/api/routes/, one file per tag). Request
// schemas go through zod's own JSON Schema conversion in "input" mode: the document shows
// what a caller sends (defaults optional, MACs as strings), not what the handler receives.
// Response schemas (the same zod contracts in lib/validation, checked against what lib/
// returns by lib/api/response-contracts.ts) go through it in "output" mode.
import { createHash } from "node:crypto";
import { z } from "zod";
import { timestampSchema } from "../validation/common";
import { ERROR_STATUS } from "../errors";
import { MAX_JSON_BYTES } from "../http/handler";
import { API_ROUTES, API_TAGS, type ApiResponse, type ApiRoute } from "./routes";

type JsonSchema = Record<string, unknown>;

export type OpenApiParameter = { name: string; in: "path" | "query"; required: boolean; description?: string; schema: JsonSchema };

export type OpenApiOperation = {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  security: Record<string, string[]>[];
  parameters?: OpenApiParameter[];
  requestBody?: { required: boolean; content: { "application/json": { schema: JsonSchema } } };
  responses: Record<string, { description: string; content?: Record<string, { schema: JsonSchema }> }>;
  "x-kiln-auth": ApiRoute["auth"];
};

export type OpenApiDocument = {
  openapi: "3.1.0";
  info: { title: string; version: string; description: string };
  jsonSchemaDialect: string;
  tags: { name: string; description: string }[];
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { securitySchemes: Record<string, unknown>; schemas: Record<string, JsonSchema> };
};

const DIALECT = "https://json-schema.org/draft/2020-12/schema";
const ANY_JSON = { description: "Any JSON value." };

/**
 * zod → JSON Schema: requests as the caller writes them ("input"), responses as Kiln sends them
 * ("output"). Dates (audit `from`/`to`, times in answers) travel as ISO 8601 strings.
 */
export function toJsonSchema(schema: z.ZodType, io: "input" | "output" = "input"): JsonSchema {
  const json = z.toJSONSchema(schema, {
    target: "draft-2020-12",
    io,
    unrepresentable: (ctx) => (ctx.zodSchema._zod.def.type === "date" ? { type: "string", format: "date-time" } : undefined),
    override: (ctx) => {
      const out = ctx.jsonSchema as JsonSchema;
      // z.json() (vars) is a recursive union; generated clients (TypeScript) cannot name a union
      // that contains itself, and "any JSON" is all it says.
      if (ctx.zodSchema._zod.def.type === "lazy") {
        for (const k of Object.keys(out)) delete out[k];
        Object.assign(out, ANY_JSON);
      }
      if (io === "input") return;
      // A Date or its ISO string in lib/, one string on the wire.
      if (ctx.zodSchema === timestampSchema) {
        for (const k of Object.keys(out)) delete out[k];
        Object.assign(out, { type: "string", format: "date-time" });
      }
      // zod closes output objects; an answer may gain fields, and a client should not break on them.
      if (out.additionalProperties === false) delete out.additionalProperties;
    },
  }) as JsonSchema;
  // The document declares the dialect once (jsonSchemaDialect); repeating it per schema is noise.
  delete json.$schema;
  return json;
}

/**
 * zod writes a recursive schema (vars: any JSON) as `$defs` with `#/$defs/…` references, which
 * resolve against the schema's own root; inside an OpenAPI document they resolve against the
 * document, where nothing is there. They move to components.schemas, named by their content
 * (the same definition from two operations is one component).
 */
function hoistDefs(json: JsonSchema, components: Record<string, JsonSchema>): JsonSchema {
  const defs = json.$defs as Record<string, JsonSchema> | undefined;
  if (!defs) return json;
  delete json.$defs;
  const tag = createHash("sha256").update(JSON.stringify(defs)).digest("hex").slice(0, 8);
  const names = new Map(Object.entries(defs).map(([name, def], i) => [name, def.description === ANY_JSON.description ? "JsonValue" : `Schema${tag}${i}`]));
  const relink = (value: JsonSchema): JsonSchema =>
    JSON.parse(JSON.stringify(value).replace(/"#\/\$defs\/([^"]+)"/g, (_, name: string) => JSON.stringify(`#/components/schemas/${names.get(name) ?? name}`)));
  for (const [name, def] of Object.entries(defs)) components[names.get(name)!] = relink(def);
  return relink(json);
}

const ERROR_BODY: JsonSchema = {
  type: "object",
  description: "The one error body every endpoint answers with. `details.fieldErrors` maps a field (dotted path) to its messages.",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message"],
      properties: {
        code: { type: "string", enum: Object.keys(ERROR_STATUS) },
        message: { type: "string", description: "A sentence a person can act on." },
        details: {
          type: "object",
          properties: {
            fieldErrors: { type: "object", additionalProperties: { type: "array", items: { type: "string" } } },
            retryAfterSeconds: { type: "integer" },
          },
          additionalProperties: true,
        },
      },
    },
  },
};

const PAGINATION: JsonSchema = {
  type: "object",
  required: ["page", "perPage", "total"],
  properties: { page: { type: "integer", minimum: 1 }, perPage: { type: "integer", minimum: 1 }, total: { type: "integer", minimum: 0 } },
};

const errorContent = { "application/json": { schema: { $ref: "#/components/schemas/ErrorBody" } } };

/** The refusals that follow from how an operation is called; the registry adds the particular ones. */
function errorResponses(route: ApiRoute): ApiResponse[] {
  const out: ApiResponse[] = [];
  const bad = [
    route.body ? "the body is not a JSON object or a field is invalid (`details.fieldErrors` names it)" : "",
    route.query ? "a query parameter is invalid (the message names it; unknown parameters are ignored)" : "",
  ].filter(Boolean);
  if (bad.length) out.push({ status: 400, description: `Bad request: ${bad.join("; ")}.` });
  if (route.auth !== "public") out.push({ status: 401, description: "Not signed in, or the bearer token is unknown, revoked or expired, or its owner is disabled." });
  if (route.auth === "admin") out.push({ status: 403, description: "The caller is not an administrator." });
  if (route.body) out.push({ status: 413, description: `The body is larger than ${MAX_JSON_BYTES / 1024} KiB.` });
  for (const e of route.errors ?? []) {
    const same = out.find((o) => o.status === e.status);
    if (same) same.description = `${same.description} Or: ${e.description}`;
    else out.push(e);
  }
  return out.sort((a, b) => a.status - b.status);
}

function pathParameters(route: ApiRoute): OpenApiParameter[] {
  return [...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
    name: name!,
    in: "path",
    required: true,
    description: route.params?.[name!] ?? "An id (a UUID).",
    // Not a UUID: answered 404 like an unknown id, so the document says "string", not "uuid".
    schema: { type: "string" },
  }));
}

function queryParameters(route: ApiRoute): OpenApiParameter[] {
  if (!route.query) return [];
  const json = toJsonSchema(route.query) as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, schema]) => ({
    name,
    in: "query",
    required: json.required?.includes(name) ?? false,
    ...(typeof schema.description === "string" ? { description: schema.description } : {}),
    schema,
  }));
}

function operationOf(route: ApiRoute, components: Record<string, JsonSchema>): OpenApiOperation {
  const parameters = [...pathParameters(route), ...queryParameters(route)];
  const success = route.success.schema
    ? { description: route.success.description, content: { [route.success.contentType ?? "application/json"]: { schema: hoistDefs(toJsonSchema(route.success.schema, "output"), components) } } }
    : route.success.list
    ? {
        description: route.success.description,
        content: {
          "application/json": {
            schema: { type: "object", required: ["data", "pagination"], properties: { data: { type: "array", items: {} }, pagination: { $ref: "#/components/schemas/Pagination" } } },
          },
        },
      }
    : { description: route.success.description };
  const responses: OpenApiOperation["responses"] = { [String(route.success.status)]: success };
  for (const e of errorResponses(route)) responses[String(e.status)] = { description: e.description, content: errorContent };
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: [route.tag],
    // Public operations override the document-wide requirement with "none".
    security: route.auth === "public" ? [] : [{ bearerToken: [] }, { sessionCookie: [] }],
    ...(parameters.length ? { parameters } : {}),
    ...(route.body ? { requestBody: { required: !route.bodyOptional, content: { "application/json": { schema: hoistDefs(toJsonSchema(route.body), components) } } } } : {}),
    responses,
    "x-kiln-auth": route.auth,
  };
}

export function buildOpenApiDocument(routes: ApiRoute[] = API_ROUTES): OpenApiDocument {
  const paths: OpenApiDocument["paths"] = {};
  const shared: Record<string, JsonSchema> = {};
  for (const route of routes) (paths[route.path] ??= {})[route.method.toLowerCase()] = operationOf(route, shared);
  return {
    openapi: "3.1.0",
    info: {
      title: "Kiln API",
      version: "1",
      description:
        "Self-service bare-metal provisioning. Authenticate with a personal access token (create one on your profile page, " +
        "`POST /api/account/tokens`, or `npm run kiln -- token create`) sent as `Authorization: Bearer kiln_pat_…`; " +
        "a token acts as its owner. Lists take `?page=&per_page=` and answer `{ data, pagination }`. " +
        "Every error answers `{ error: { code, message, details } }`. JSON bodies need `Content-Type: application/json`.",
    },
    jsonSchemaDialect: DIALECT,
    tags: API_TAGS.map((t) => ({ name: t.name, description: t.description })),
    paths,
    components: {
      securitySchemes: {
        bearerToken: { type: "http", scheme: "bearer", description: "A personal access token, `kiln_pat_…`." },
        sessionCookie: { type: "apiKey", in: "cookie", name: "authjs.session-token", description: "The browser session set by `POST /api/session` (`__Secure-` prefixed over HTTPS)." },
      },
      schemas: { ErrorBody: ERROR_BODY, Pagination: PAGINATION, ...shared },
    },
  };
}

// Built once per process: the registry and schemas are constants.
let cached: OpenApiDocument | undefined;

export function getOpenApiDocument(): OpenApiDocument {
  cached ??= buildOpenApiDocument();
  return cached;
}
