// Every write route handler under app/api, found on disk (a new route is covered without
// touching this file), called with hostile input by a signed-in admin and a researcher:
// strings with NUL bytes and lone surrogates, huge and fractional numbers, deep nesting,
// absurd dates, ids that are and are not UUIDs, real ids of real rows. Whatever comes in, the
// answer is never a 5xx. The shapes are random; the field names are the ones Kiln's schemas
// use (read from lib/validation), so the input gets past the first "unknown field" and
// reaches the checks, queries and columns behind it.
import { getProcessEnv } from "@/lib/env";
import { callRoute } from "@/test/harness/route-handler";
import fs from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { actorOf } from "@/lib/access/actor";
import { createApiToken } from "@/lib/auth/api-tokens";
import { createHost } from "@/lib/hosts/hosts";
import { createImage } from "@/lib/images/images";
import { createLease } from "@/lib/leases/leases";
import { createPool } from "@/lib/pools/pools";
import { addProjectMember, createProject } from "@/lib/projects/projects";
import { createTemplate } from "@/lib/templates/templates";
import { useTestDb } from "@/test/harness/database";
import { createActiveUser } from "@/test/harness/fixtures";

const t = await useTestDb();

type Handler = (req: Request, ctx: never) => Promise<Response>;
type Target = { file: string; route: string; method: string; handler: Handler; params: string[] };

const WRITE_METHODS = ["POST", "PUT", "PATCH", "DELETE"] as const;
const apiDir = path.resolve(import.meta.dirname);

function routeFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return routeFiles(full);
    return e.name === "route.ts" ? [full] : [];
  });
}

/**
 * Handlers the in-process harness cannot run whatever the input: sign-out writes its cookie
 * through Next's request cookie store, which only a real Next request has (the e2e specs sign
 * out through the real server).
 */
const NEEDS_NEXT = new Set(["DELETE /api/session"]);

async function writeTargets(): Promise<Target[]> {
  const out: Target[] = [];
  for (const file of routeFiles(apiDir)) {
    const rel = path.relative(apiDir, path.dirname(file)).split(path.sep);
    const mod = (await import(file)) as Record<string, unknown>;
    for (const method of WRITE_METHODS) {
      if (typeof mod[method] !== "function" || NEEDS_NEXT.has(`${method} /api/${rel.join("/")}`)) continue;
      const params = rel.filter((s) => s.startsWith("[")).map((s) => s.replace(/[[\].]/g, ""));
      out.push({ file: path.relative(apiDir, file), route: `/api/${rel.join("/")}`, method, handler: mod[method] as Handler, params });
    }
  }
  return out;
}

/** Field names Kiln's zod schemas take, read from their source: `name: z.…`, `poolId: uuidSchema…`. */
function schemaKeys(): string[] {
  const dir = path.resolve(apiDir, "../../lib/validation");
  const keys = new Set<string>();
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))) {
    for (const m of fs.readFileSync(path.join(dir, f), "utf8").matchAll(/^\s+(\w+):\s*(z\.|\w+Schema|quota|source|imageName)/gm)) keys.add(m[1]!);
  }
  return [...keys];
}

// --- the hostile values -------------------------------------------------------------------

const nasty = fc.constantFrom(
  "\u0000",
  "a\u0000b",
  "\ud800",
  "x\udfffy",
  "\ud83d",
  "",
  " ",
  "\n",
  "../../etc/passwd",
  "constructor",
  "__proto__",
  "toString",
  "9".repeat(400),
  "-1",
  "1e309",
  "NaN",
  "99999-01-01",
  "0000-00-00",
  "+275760-09-13T00:00:00Z",
  "1969-12-31T23:59:59Z",
  "2026-02-30",
  "52:54:00:00:00:01",
  "ZZ:ZZ:ZZ:ZZ:ZZ:ZZ",
  "00000000-0000-0000-0000-000000000000",
  "ffffffff-ffff-ffff-ffff-ffffffffffff",
  "not-a-uuid",
  "latest",
  "admin",
  "root@lab.example",
  "{{ 7 * 7 }}",
  "%00",
  "x".repeat(70_000),
);

const hugeNumber = fc.constantFrom(0, -1, 1.5, -0.0001, 2 ** 31, 2 ** 31 - 1, -(2 ** 31) - 1, 2 ** 53 + 2, 1e21, -1e308, 1e308, Number.MAX_SAFE_INTEGER);
const date = fc.constantFrom("99999-12-31T00:00:00Z", "-000001-01-01T00:00:00Z", "1900-01-01", "9999-12-31T23:59:59Z", "2026-13-45", "2026-01-31T25:61:61Z");

function deep(depth: number, leaf: unknown): unknown {
  let v: unknown = leaf;
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
  return v;
}

let realIds: string[] = [];
let keys: string[] = [];

const id = () => fc.oneof(fc.constantFrom(...realIds), fc.uuid(), nasty, fc.string(), hugeNumber.map(String));

const leaf = () =>
  fc.oneof(
    { weight: 4, arbitrary: nasty },
    { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
    { weight: 2, arbitrary: hugeNumber },
    { weight: 2, arbitrary: date },
    { weight: 3, arbitrary: fc.constantFrom(...realIds) },
    { weight: 1, arbitrary: fc.uuid() },
    { weight: 1, arbitrary: fc.constantFrom(true, false, null) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 40 }).map((d) => deep(d, "x")) },
  );

const valueArb = () =>
  fc.letrec<{ v: unknown }>((tie) => ({
    v: fc.oneof({ depthSize: "small", withCrossShrink: true }, leaf(), fc.array(tie("v"), { maxLength: 4 }), fc.dictionary(fc.constantFrom(...keys), tie("v"), { maxKeys: 4 })),
  })).v;

/** A body: usually an object with Kiln's field names; sometimes nesting far past any limit, or not an object at all. */
const body = () => {
  const value = valueArb();
  return fc.oneof(
    { weight: 8, arbitrary: fc.dictionary(fc.constantFrom(...keys), value, { maxKeys: 8 }) },
    // As text: a value this deep would overflow the stack of anything that walks it (fast-check's reporter too).
    { weight: 1, arbitrary: fc.integer({ min: 33, max: 50_000 }).map((d) => `{"name":${"[".repeat(d)}"x"${"]".repeat(d)}}`) },
    { weight: 1, arbitrary: fc.oneof(leaf(), fc.array(value, { maxLength: 3 })) },
    { weight: 1, arbitrary: fc.constantFrom(undefined, "{not json", `{"name":"\\u0000"}`, `{"name":"\\udead"}`, "[".repeat(100_000)) },
  );
};

const query = () => fc.dictionary(fc.constantFrom("page", "per_page", "from", "to", "q", "version", "scope", "state", "logs_after", "force", "after"), fc.oneof(nasty, hugeNumber.map(String), date), { maxKeys: 3 });

/** A path segment as a client would send it; a lone surrogate cannot be percent-encoded, so it goes as U+FFFD (the handler still gets the raw value). */
function urlPart(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return encodeURIComponent(s.replace(/[\ud800-\udfff]/g, "\ufffd"));
  }
}

// --- the callers --------------------------------------------------------------------------

let tokens: { admin: string; researcher: string };
let targets: Target[] = [];

beforeAll(async () => {
  const admin = (await createActiveUser(t.db, { admin: true })).user;
  const researcher = (await createActiveUser(t.db)).user;
  const A = actorOf(admin, null);
  tokens = {
    admin: (await createApiToken(t.db, admin.id, { name: "property" })).token,
    researcher: (await createApiToken(t.db, researcher.id, { name: "property" })).token,
  };
  const pool = await createPool(t.db, A, { name: "prop-pool", defaultLeaseHours: 8, maxLeaseHours: 48 });
  const project = await createProject(t.db, A, { name: "prop-project" });
  await addProjectMember(t.db, A, project.id, { userId: researcher.id });
  const hosts = [];
  for (let i = 0; i < 3; i++) hosts.push(await createHost(t.db, A, { name: `prop-${i}`, poolId: pool.id, interfaces: [{ mac: `52:54:00:ee:00:0${i}` }] }));
  const lease = await createLease(t.db, actorOf(researcher, null), { poolId: pool.id, projectId: project.id, count: 1 });
  const image = await createImage(t.db, actorOf(researcher, null), { name: "prop-image" });
  const template = await createTemplate(t.db, actorOf(researcher, null), { name: "prop-template", kind: "ipxe", source: "#!ipxe\necho hi\n" }).catch(() => null);
  realIds = [admin.id, researcher.id, pool.id, project.id, ...hosts.map((h) => h.id), (lease as { id: string }).id, image.id, ...(template ? [(template as { id: string }).id] : [])];
  keys = schemaKeys();
  targets = await writeTargets();
}, 120_000);

describe("every write route, hostile input", () => {
  it("finds the write routes on disk", () => {
    expect(targets.length).toBeGreaterThan(30);
    expect(targets.map((x) => `${x.method} ${x.route}`)).toEqual(expect.arrayContaining(["POST /api/v1/leases/[id]/release", "POST /api/v1/hosts/[id]/reinstall", "POST /api/session"]));
    expect(keys).toEqual(expect.arrayContaining(["name", "poolId", "hostIds", "durationHours"]));
  });

  it("never answers 5xx, as an admin or a researcher", async () => {
    const failures: string[] = [];
    const statuses: Record<number, number> = {};
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: targets.length - 1 }),
        fc.constantFrom("admin" as const, "researcher" as const),
        fc.array(id(), { minLength: 3, maxLength: 3 }),
        body(),
        query(),
        fc.boolean(),
        async (i, who, ids, b, q, raw) => {
          const target = targets[i]!;
          const params = Object.fromEntries(target.params.map((p, k) => [p, p === "path" ? (ids[k] as string) : (ids[k] as string)]));
          const qs = new URLSearchParams(q as Record<string, string>).toString();
          const url = `${target.route.replace(/\[\[?\.{0,3}(\w+)\]?\]/g, (_, p: string) => urlPart(String(params[p] ?? "x")))}${qs ? `?${qs}` : ""}`;
          // Half the bodies go as JSON text made here (escapes such as \u0000 and \udead survive as sent).
          const sent = b === undefined ? undefined : raw || typeof b === "string" ? (typeof b === "string" ? b : JSON.stringify(b)) : b;
          const res = await callRoute(target.handler, target.method, url, {
            token: tokens[who],
            params,
            body: sent,
            headers: sent === undefined ? {} : { "content-type": "application/json" },
          });
          statuses[res.status] = (statuses[res.status] ?? 0) + 1;
          if (res.status >= 500) failures.push(`${target.method} ${url.slice(0, 200)} as ${who} → ${res.status} ${JSON.stringify(res.body).slice(0, 300)} body=${String(typeof sent === "string" ? sent : JSON.stringify(sent)).slice(0, 300)}`);
          // KILN_PROPERTY_SURVEY=1 keeps going to list every failing case at once.
          return res.status < 500 || getProcessEnv().KILN_PROPERTY_SURVEY === "1";
        },
      ),
      { numRuns: Number(getProcessEnv().KILN_PROPERTY_RUNS ?? 400), endOnFailure: true },
    );
    if (getProcessEnv().KILN_PROPERTY_SURVEY === "1") console.log(JSON.stringify(statuses));
    if (failures.length) console.log(failures.join("\n"));
    expect(failures).toEqual([]);
  }, 600_000);
});
