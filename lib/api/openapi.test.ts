import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { GET } from "@/app/api/v1/openapi.json/route";
import { buildOpenApiDocument, type OpenApiDocument } from "./openapi";
import { API_ROUTES, API_TAGS, UNDOCUMENTED_ROUTE_FILES } from "./routes";

const ROOT = path.resolve(__dirname, "../..");
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/** Every route.ts under app/api, with the HTTP methods it exports. */
function routeFiles(dir = path.join(ROOT, "app/api")): { file: string; methods: string[] }[] {
  const out: { file: string; methods: string[] }[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...routeFiles(full));
    else if (entry.name === "route.ts") {
      const source = fs.readFileSync(full, "utf8");
      const methods = METHODS.filter((m) => new RegExp(`export\\s+(const|async\\s+function|function)\\s+${m}\\b`).test(source));
      out.push({ file: path.relative(ROOT, full), methods });
    }
  }
  return out;
}

/** app/api/v1/hosts/[id]/route.ts → /api/v1/hosts/{id} */
function apiPathOf(file: string): string {
  return `/${path.dirname(file).replace(/^app\//, "")}`.replace(/\[(\w+)\]/g, "{$1}");
}

const doc = buildOpenApiDocument();

describe("OpenAPI document", () => {
  it("documents every handler under app/api, and nothing that does not exist", () => {
    const files = routeFiles().filter((f) => !UNDOCUMENTED_ROUTE_FILES.includes(f.file));
    expect(files.some((f) => f.file === "app/api/v1/hosts/[id]/route.ts")).toBe(true);
    const handlers = files.flatMap((f) => f.methods.map((m) => `${m} ${apiPathOf(f.file)}`)).sort();
    const registered = API_ROUTES.map((r) => `${r.method} ${r.path}`).sort();
    const missing = handlers.filter((h) => !registered.includes(h));
    const phantom = registered.filter((r) => !handlers.includes(r));
    expect({ missing, phantom }).toEqual({ missing: [], phantom: [] });
    // Every v1 file is covered (the walk above would pass vacuously on an empty tree).
    expect(files.filter((f) => f.file.startsWith("app/api/v1/")).length).toBeGreaterThanOrEqual(20);
  });

  it("is OpenAPI 3.1 with unique operation ids, declared tags and every path parameter described", () => {
    expect(doc.openapi).toBe("3.1.0");
    const ops = Object.entries(doc.paths).flatMap(([p, methods]) => Object.entries(methods).map(([m, op]) => ({ p, m, op })));
    expect(ops).toHaveLength(API_ROUTES.length);
    const ids = ops.map((o) => o.op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    const tags = new Set<string>(API_TAGS.map((t) => t.name));
    for (const { p, m, op } of ops) {
      expect(op.tags.every((t) => tags.has(t)), `${m} ${p} tags`).toBe(true);
      const inPath = [...p.matchAll(/\{(\w+)\}/g)].map((x) => x[1]);
      expect(op.parameters?.filter((x) => x.in === "path").map((x) => x.name) ?? [], `${m} ${p} path parameters`).toEqual(inPath);
      expect(Object.keys(op.responses).some((s) => s.startsWith("2")), `${m} ${p} has a success response`).toBe(true);
      if (op["x-kiln-auth"] !== "public") expect(op.responses["401"], `${m} ${p} documents 401`).toBeDefined();
      if (op["x-kiln-auth"] === "admin") expect(op.responses["403"], `${m} ${p} documents 403`).toBeDefined();
    }
  });

  it("gives every operation a success response with a body schema, from the zod response contracts", () => {
    const ops = Object.entries(doc.paths).flatMap(([p, methods]) => Object.entries(methods).map(([m, op]) => ({ at: `${m.toUpperCase()} ${p}`, op })));
    const without = ops.filter(({ op }) =>
      !Object.entries(op.responses).some(([status, r]) => status.startsWith("2") && Object.values(r.content ?? {}).some((c) => c.schema && Object.keys(c.schema).length > 0)),
    );
    expect(without.map((o) => o.at)).toEqual([]);

    // The host view says where to reach the machine and whether it is deployed.
    const host = doc.paths["/api/v1/hosts/{id}"]!.get!.responses["200"]!.content!["application/json"]!.schema as any;
    expect(host.properties.host.required).toEqual(expect.arrayContaining(["addresses", "provisioning", "access"]));
    expect(host.properties.host.properties.provisioning.properties.state.enum).toEqual(expect.arrayContaining(["deployed", "deploying", "failed", "none"]));
    expect(host.properties.host.properties.addresses.items.properties.seenAt).toEqual({ type: "string", format: "date-time" });
    // Lists are pages; answers are open (a new field does not break a client).
    const versions = doc.paths["/api/v1/images/{id}/versions"]!.get!.responses["200"]!.content!["application/json"]!.schema as any;
    expect(versions.required).toEqual(["data", "pagination"]);
    expect(versions.properties.data.items.properties.sha256).toEqual({ type: ["string", "null"] });
    const answers = ops.flatMap(({ op }) => Object.entries(op.responses).filter(([s]) => s.startsWith("2")).map(([, r]) => r));
    expect(JSON.stringify(answers)).not.toContain('"additionalProperties":false');
    // Recursive schemas (vars: any JSON) are components, not schema-local $defs the document cannot resolve.
    expect(JSON.stringify(doc)).not.toContain("#/$defs/");
    const runs = doc.paths["/api/v1/hosts/{id}/deployments"]!.get!.responses["200"]!.content!["application/json"]!.schema as any;
    expect(runs.required).toEqual(expect.arrayContaining(["data", "pagination", "lastEventId"]));
    expect(doc.paths["/api/v1/hosts/{id}/events"]!.get!.responses["200"]!.content!["text/event-stream"]).toBeDefined();
  });

  it("takes request and query schemas from the zod contracts, as the caller writes them", () => {
    const createHost = doc.paths["/api/v1/hosts"]!.post!;
    const body = createHost.requestBody!.content["application/json"].schema as { properties: Record<string, { type?: string; items?: { properties: Record<string, unknown> } }>; required: string[] };
    expect(body.required).toEqual(expect.arrayContaining(["name", "interfaces"]));
    // Defaulted fields are optional on input; the MAC is a string (its normalising transform is invisible).
    expect(body.required).not.toContain("tags");
    expect(body.properties.interfaces!.items!.properties.mac).toEqual({ type: "string" });

    const list = doc.paths["/api/v1/hosts"]!.get!;
    const state = list.parameters!.find((p) => p.name === "state")!;
    expect(state).toMatchObject({ in: "query", required: false, schema: { type: "string", enum: expect.arrayContaining(["available", "leased"]) } });
    expect(list.parameters!.map((p) => p.name)).toEqual(expect.arrayContaining(["q", "pool", "tag", "sort", "order", "page", "per_page"]));

    const audit = doc.paths["/api/v1/audit"]!.get!;
    expect(audit.parameters!.find((p) => p.name === "from")!.schema).toEqual({ type: "string", format: "date-time" });
  });

  it("declares the bearer scheme, the error body, and no credentials for public operations", () => {
    expect(doc.components.securitySchemes.bearerToken).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.components.schemas.ErrorBody).toMatchObject({ required: ["error"] });
    expect(doc.paths["/api/session"]!.post!.security).toEqual([]);
    expect(doc.paths["/api/v1/leases"]!.post!.security).toEqual([{ bearerToken: [] }, { sessionCookie: [] }]);
    expect(doc.paths["/api/v1/leases"]!.post!.responses["409"]!.content!["application/json"]!.schema).toEqual({ $ref: "#/components/schemas/ErrorBody" });
    // Every $ref resolves.
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/(\w+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(0);
    for (const r of refs) expect(doc.components.schemas[r], r).toBeDefined();
  });

  it("is served as JSON by GET /api/v1/openapi.json", async () => {
    const res = await GET(new Request("http://kiln.test/api/v1/openapi.json"), undefined as never);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    const served = JSON.parse(await res.text()) as OpenApiDocument;
    expect(served.openapi).toBe("3.1.0");
    expect(Object.keys(served.paths)).toEqual(Object.keys(doc.paths));
  });
});
