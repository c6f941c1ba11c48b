// A client generated from the served OpenAPI document type-checks: openapi-typescript turns
// GET /api/v1/openapi.json into `paths` types, and a small client written against them (a
// host's ssh line and deploy status, a host's runs, an image's versions) compiles under
// strict TypeScript. A response without a schema, or a field the document drops or retypes,
// fails the compile — the control case below shows that it does.
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import openapiTS, { astToString } from "openapi-typescript";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GET } from "@/app/api/v1/openapi.json/route";

const CLIENT = `
import type { paths } from "./kiln-api";

/** The JSON body of a 200 answer; does not compile when the document gives the answer no schema. */
type Ok<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends { responses: { 200: { content: { "application/json": infer B } } } } ? B : { error: "no response schema"; path: P };
type Params<P extends string> = P extends \`\${string}{\${infer N}}\${infer Rest}\` ? { [K in N | keyof Params<Rest>]: string } : {};

async function get<P extends keyof paths>(base: string, token: string, route: P, params: Params<P & string>): Promise<Ok<P, "get" & keyof paths[P]>> {
  const url = (route as string).replace(/\\{(\\w+)\\}/g, (_, k: string) => encodeURIComponent((params as Record<string, string>)[k]!));
  const res = await fetch(base + url, { headers: { authorization: "Bearer " + token } });
  if (!res.ok) throw new Error(\`\${route}: \${res.status}\`);
  return (await res.json()) as Ok<P, "get" & keyof paths[P]>;
}

export type Source = "boot" | "agent" | "installed";

/** What a researcher's script wants after a lease: the ssh line, where the address came from, and whether the machine is deployed. */
export async function hostAccess(base: string, token: string, hostId: string) {
  const { host } = await get(base, token, "/api/v1/hosts/{id}", { id: hostId });
  const addresses: { address: string; source: Source; seenAt: string }[] = host.addresses.map((a) => ({ address: a.address, source: a.source, seenAt: a.seenAt }));
  const ssh: string | null = host.access ? host.access.command : null;
  const state: "none" | "deploying" | "deployed" | "wiping" | "wiped" | "capturing" | "captured" | "commissioning" | "commissioned" | "failed" | "cancelled" = host.provisioning.state;
  const runId: string | null = host.provisioning.runId;
  return { ssh, state, runId, addresses, name: host.name as string };
}

export async function listedAddresses(base: string, token: string): Promise<string[]> {
  const page = await get(base, token, "/api/v1/hosts", {});
  const total: number = page.pagination.total;
  return page.data.flatMap((h) => h.addresses.map((a) => \`\${h.name} \${a.address} (\${total})\`));
}

export async function runs(base: string, token: string, hostId: string) {
  const page = await get(base, token, "/api/v1/hosts/{id}/deployments", { id: hostId });
  const lastEventId: number = page.lastEventId;
  return page.data.map((r) => {
    const written: number = r.progress.bytesWritten;
    const steps: string[] = r.steps.map((s) => \`\${s.name}:\${s.state}\`);
    const state: "pending" | "running" | "done" | "failed" | "cancelled" = r.state;
    return { id: r.id as string, state, written, steps, finishedAt: r.finishedAt as string | null, lastEventId };
  });
}

export async function versions(base: string, token: string, imageId: string) {
  const page = await get(base, token, "/api/v1/images/{id}/versions", { id: imageId });
  return page.data.map((v) => {
    const sha: string | null = v.sha256;
    const size: number = v.sizeBytes;
    const state: "uploading" | "verifying" | "ready" | "failed" = v.state;
    return { version: v.version as number, sha, size, state, blobUrl: v.blobUrl as string | null };
  });
}

export async function run(base: string, token: string, id: string): Promise<string[]> {
  const r = await get(base, token, "/api/v1/deployments/{id}", { id });
  return r.logs.map((l) => l.line);
}
`;

// Control: the same client, asking for a field the document does not have.
const BROKEN_CLIENT = `
import type { paths } from "./kiln-api";
type HostDetail = paths["/api/v1/hosts/{id}"]["get"]["responses"][200]["content"]["application/json"];
export const x = (h: HostDetail): string => h.host.sshPassword;
`;

let dir: string;
let schemaText: string;

function compile(file: string): string[] {
  const program = ts.createProgram([file], {
    strict: true,
    noEmit: true,
    noUncheckedIndexedAccess: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ["lib.es2022.d.ts", "lib.dom.d.ts"],
    types: [],
    skipLibCheck: true,
  });
  return ts.getPreEmitDiagnostics(program).map((d) => `${d.file ? path.basename(d.file.fileName) : ""}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
}

beforeAll(async () => {
  const res = await GET(new Request("http://kiln.test/api/v1/openapi.json"), undefined as never);
  const served = JSON.parse(await res.text()) as Record<string, unknown>;
  schemaText = astToString(await openapiTS(served as never));
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-openapi-client-"));
  await fs.writeFile(path.join(dir, "kiln-api.ts"), schemaText);
  await fs.writeFile(path.join(dir, "client.ts"), CLIENT);
  await fs.writeFile(path.join(dir, "broken.ts"), BROKEN_CLIENT);
});

afterAll(async () => {
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

describe("a client generated from the OpenAPI document (openapi-typescript)", () => {
  it("type-checks: host with addresses, ssh line and deploy status; a host's runs; an image's versions; a run's log", () => {
    expect(schemaText).toContain('"/api/v1/hosts/{id}"');
    expect(compile(path.join(dir, "client.ts"))).toEqual([]);
  }, 60_000);

  it("does not compile when the client asks for what the document does not promise (the check can fail)", () => {
    const errors = compile(path.join(dir, "broken.ts"));
    expect(errors.join("\n")).toMatch(/sshPassword/);
  }, 60_000);
});
