// Bad input through the API: every refusal is a 4xx with a sentence a person can act on,
// and nothing is written (row counts of every inventory table, and the audit log, unchanged).
import { callRoute, type CallOptions } from "@/test/harness/route-handler";
import { randomBytes, randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { MAX_JSON_BYTES } from "@/lib/http/handler";
import { actorOf, type Actor } from "@/lib/access/actor";
import { createApiToken } from "@/lib/auth/api-tokens";
import { createHost, getHostDetail } from "@/lib/hosts/hosts";
import { createLease } from "@/lib/leases/leases";
import { createPool } from "@/lib/pools/pools";
import { addProjectMember, createProject } from "@/lib/projects/projects";
import { useTestDb } from "@/test/harness/database";
import { countRows, createActiveUser, type UserRow } from "@/test/harness/fixtures";
import * as audit from "./audit/route";
import * as hostById from "./hosts/[id]/route";
import * as hostBulk from "./hosts/bulk/route";
import * as hosts from "./hosts/route";
import * as leaseExtend from "./leases/[id]/extend/route";
import * as leaseHandover from "./leases/[id]/handover/route";
import * as leaseById from "./leases/[id]/route";
import * as leases from "./leases/route";
import * as poolById from "./pools/[id]/route";
import * as pools from "./pools/route";
import * as memberById from "./projects/[id]/members/[userId]/route";
import * as members from "./projects/[id]/members/route";
import * as projects from "./projects/route";
import * as userById from "./users/[id]/route";
import * as users from "./users/route";

const t = await useTestDb();

type Handler = (req: Request, ctx: never) => Promise<Response>;
type ErrorBody = { error: { code: string; message: string; details?: { fieldErrors?: Record<string, string[]> } } };

const TABLES = ["hosts", "host_interfaces", "host_events", "pools", "projects", "project_members", "leases", "lease_hosts", "lease_events", "audit_log"] as const;

const rowCounts = () => countRows(t.db, TABLES);

let admin: UserRow;
let A: Actor;
let adminToken: string;
let memberToken: string;
let member: UserRow;
let outsider: UserRow;
let pool: { id: string; name: string };
let projectId: string;
let hostName: string;
let hostMac: string;

const tag = () => randomBytes(4).toString("hex");

beforeAll(async () => {
  admin = (await createActiveUser(t.db, { admin: true })).user;
  A = actorOf(admin, null);
  member = (await createActiveUser(t.db)).user;
  outsider = (await createActiveUser(t.db)).user;
  adminToken = (await createApiToken(t.db, admin.id, { name: "bad input" })).token;
  memberToken = (await createApiToken(t.db, member.id, { name: "bad input" })).token;
  pool = await createPool(t.db, A, { name: "rack-a", defaultLeaseHours: 8, maxLeaseHours: 48 });
  for (let i = 0; i < 3; i++) {
    const h = await createHost(t.db, A, { name: `node-${i}`, poolId: pool.id, interfaces: [{ mac: `52:54:00:bb:00:0${i}` }] });
    if (i === 0) [hostName, hostMac] = [h.name, h.interfaces[0]!.mac];
  }
  const project = await createProject(t.db, A, { name: "astro" });
  projectId = project.id;
  await addProjectMember(t.db, A, project.id, { userId: member.id });
});

/**
 * Sends one request that must be refused with `status`, checks the message, and checks that
 * no table changed. Returns the error body for more checks.
 */
async function refused(
  handler: Handler,
  method: string,
  path: string,
  options: CallOptions & { as?: "admin" | "member" },
  status: number,
  message: RegExp,
): Promise<ErrorBody> {
  const before = await rowCounts();
  const res = await callRoute<ErrorBody>(handler, method, path, { token: options.as === "member" ? memberToken : adminToken, ...options });
  expect({ status: res.status, message: res.body.error?.message }).toEqual({ status, message: expect.stringMatching(message) });
  // Readable: a sentence, not a stack trace or a driver error.
  expect(res.body.error.message).not.toMatch(/\bat .*\.(ts|js):\d+|violates|syntax for type|Zod/i);
  expect(await rowCounts()).toEqual(before);
  return res.body;
}

const host = (extra: Record<string, unknown> = {}) => ({ name: `h-${tag()}`, poolId: pool.id, interfaces: [{ mac: `52:54:00:cc:${tag().slice(0, 2)}:${tag().slice(0, 2)}` }], ...extra });

describe("bad input through the API", () => {
  it("hosts: malformed, repeated or taken MACs, a taken name, an unknown pool", async () => {
    const bad = await refused(hosts.POST, "POST", "/api/v1/hosts", { body: host({ interfaces: [{ mac: "52:54:00:zz:00:01" }] }) }, 400, /“52:54:00:zz:00:01” is not a MAC address/);
    expect(bad.error.details?.fieldErrors?.["interfaces.0.mac"]).toBeDefined();
    await refused(hosts.POST, "POST", "/api/v1/hosts", { body: host({ interfaces: [{ mac: "52:54:00:dd:00:01" }, { mac: "52-54-00-DD-00-01" }] }) }, 400, /MAC 52:54:00:dd:00:01 is listed twice/);
    await refused(hosts.POST, "POST", "/api/v1/hosts", { body: host({ interfaces: [{ mac: hostMac.toUpperCase() }] }) }, 400, new RegExp(`MAC ${hostMac} already belongs to host ${hostName}`));
    await refused(hosts.POST, "POST", "/api/v1/hosts", { body: host({ name: hostName }) }, 400, new RegExp(`A host named ${hostName} already exists`));
    await refused(hosts.POST, "POST", "/api/v1/hosts", { body: host({ poolId: randomUUID() }) }, 400, /That pool does not exist/);
    await refused(hosts.POST, "POST", "/api/v1/hosts", { body: host({ interfaces: [] }) }, 400, /at least one network interface/);
    await refused(hosts.POST, "POST", "/api/v1/hosts", { body: host({ name: "bad name!" }) }, 400, /letters, digits/);
    // Renaming onto a taken name, or taking another host's MAC, through PATCH.
    const other = await createHost(t.db, A, host());
    await refused(hostById.PATCH, "PATCH", `/api/v1/hosts/${other.id}`, { params: { id: other.id }, body: { name: hostName } }, 400, /already exists/);
    await refused(hostById.PATCH, "PATCH", `/api/v1/hosts/${other.id}`, { params: { id: other.id }, body: { interfaces: [{ mac: hostMac }] } }, 400, /already belongs to host/);
  });

  it("bulk changes are all or nothing", async () => {
    const h = await createHost(t.db, A, host());
    await refused(hostBulk.POST, "POST", "/api/v1/hosts/bulk", { body: { hostIds: [h.id, randomUUID()], action: "maintenance" } }, 404, /One of the selected hosts does not exist|That host does not exist/);
    expect((await getHostDetail(t.db, A, h.id)).host.state).toBe("available");
    await refused(hostBulk.POST, "POST", "/api/v1/hosts/bulk", { body: { hostIds: [], action: "maintenance" } }, 400, /Select at least one host/);
    await refused(hostBulk.POST, "POST", "/api/v1/hosts/bulk", { body: { hostIds: [h.id], action: "explode" } }, 400, /^action must be one of: move_to_pool, maintenance, available, accept\.$/);
  });

  it("leases: count ≤ 0 or over the pool size, an unknown pool, a duration over policy", async () => {
    const as = "member" as const;
    await refused(leases.POST, "POST", "/api/v1/leases", { as, body: { poolId: pool.id, count: 0 } }, 400, /Ask for at least one host/);
    await refused(leases.POST, "POST", "/api/v1/leases", { as, body: { poolId: pool.id, count: -3 } }, 400, /Ask for at least one host/);
    await refused(leases.POST, "POST", "/api/v1/leases", { as, body: { poolId: pool.id, count: 1.5 } }, 400, /^count must be a whole number\.$/);
    await refused(leases.POST, "POST", "/api/v1/leases", { as, body: { poolId: pool.id, count: 99 } }, 400, /Pool rack-a has \d+ hosts in all; you asked for 99/);
    await refused(leases.POST, "POST", "/api/v1/leases", { as, body: { poolId: randomUUID(), count: 1 } }, 400, /That pool does not exist/);
    await refused(leases.POST, "POST", "/api/v1/leases", { as, body: { count: 1 } }, 400, /Ask either for a pool/);
    const over = await refused(leases.POST, "POST", "/api/v1/leases", { as, body: { poolId: pool.id, count: 1, durationHours: 49 } }, 403, /Pool rack-a allows leases of at most 48 hours; you asked for 49 hours/);
    expect(over.error.code).toBe("quota_exceeded");
    await refused(leases.POST, "POST", "/api/v1/leases", { as, body: { poolId: pool.id, count: 1, durationHours: 0 } }, 400, /The duration must be positive/);
    await refused(leases.POST, "POST", "/api/v1/leases", { as, body: { poolId: pool.id, count: 1, projectId: randomUUID() } }, 400, /is not a member of that project/);
    // A researcher cannot pick hosts by id.
    await refused(leases.POST, "POST", "/api/v1/leases", { as, body: { hostIds: [randomUUID()] } }, 403, /Only administrators allocate given hosts/);
  });

  it("leases: extending past the policy, handing over to a non-member", async () => {
    const lease = await createLease(t.db, A, { poolId: pool.id, count: 1, userId: member.id, projectId, durationHours: 40 });
    const as = "member" as const;
    await refused(leaseExtend.POST, "POST", `/api/v1/leases/${lease.id}/extend`, { as, params: { id: lease.id }, body: { hours: 9 } }, 403, /at most 48 hours; extending by 9 hours would make this one 49 hours long/);
    await refused(leaseExtend.POST, "POST", `/api/v1/leases/${lease.id}/extend`, { as, params: { id: lease.id }, body: { hours: -1 } }, 400, /Extend by a positive number of hours/);
    await refused(leaseHandover.POST, "POST", `/api/v1/leases/${lease.id}/handover`, { as, params: { id: lease.id }, body: { toEmail: outsider.email } }, 400, /is not a member of this lease's project/);
    await refused(leaseHandover.POST, "POST", `/api/v1/leases/${lease.id}/handover`, { as, params: { id: lease.id }, body: {} }, 400, /Name the new holder/);
  });

  it("pools, projects, members: duplicates, bad policy, unknown people", async () => {
    await refused(pools.POST, "POST", "/api/v1/pools", { body: { name: "rack-a" } }, 400, /A pool named rack-a already exists/);
    await refused(pools.POST, "POST", "/api/v1/pools", { body: { name: `p-${tag()}`, defaultLeaseHours: 100, maxLeaseHours: 10 } }, 400, /default duration cannot exceed the maximum/);
    await refused(poolById.PATCH, "PATCH", `/api/v1/pools/${pool.id}`, { params: { id: pool.id }, body: { defaultLeaseHours: 100 } }, 400, /default duration cannot exceed the maximum/);
    await refused(projects.POST, "POST", "/api/v1/projects", { body: { name: "astro" } }, 400, /A project named astro already exists/);
    await refused(projects.POST, "POST", "/api/v1/projects", { body: { name: `q-${tag()}`, maxHosts: -1 } }, 400, /^maxHosts must be at least 0\.$/);
    await refused(members.POST, "POST", `/api/v1/projects/${projectId}/members`, { params: { id: projectId }, body: { email: "nobody@lab.example" } }, 400, /No Kiln account has that email/);
    await refused(members.POST, "POST", `/api/v1/projects/${projectId}/members`, { params: { id: projectId }, body: { role: "member" } }, 400, /Name the user by userId or email/);
  });

  it("bodies that are not a JSON object, not JSON, not declared JSON, or over 1 MiB", async () => {
    for (const raw of ["[1,2]", '"a string"', "null", "42"]) {
      await refused(pools.POST, "POST", "/api/v1/pools", { body: raw, headers: { "content-type": "application/json" } }, 400, /^The request body must be a JSON object\.$/);
    }
    await refused(pools.POST, "POST", "/api/v1/pools", { body: "{not json", headers: { "content-type": "application/json" } }, 400, /must be JSON/);
    await refused(pools.POST, "POST", "/api/v1/pools", { body: '{"name":"x"}', headers: { "content-type": "text/plain" } }, 400, /Content-Type: application\/json/);
    const big = JSON.stringify({ name: `p-${tag()}`, description: "x".repeat(MAX_JSON_BYTES) });
    const tooLarge = await refused(pools.POST, "POST", "/api/v1/pools", { body: big, headers: { "content-type": "application/json" } }, 413, /larger than 1024 KiB/);
    expect(tooLarge.error.code).toBe("payload_too_large");
    const hugeHost = JSON.stringify(host({ notes: "n".repeat(MAX_JSON_BYTES + 10) }));
    await refused(hosts.POST, "POST", "/api/v1/hosts", { body: hugeHost, headers: { "content-type": "application/json" } }, 413, /larger than/);
  });

  it("path ids that are not UUIDs are 404 with a message, never 500", async () => {
    const cases: [Handler, string, string, Record<string, string>, RegExp][] = [
      [hostById.GET, "GET", "/api/v1/hosts/abc", { id: "abc" }, /That host does not exist/],
      [hostById.DELETE, "DELETE", "/api/v1/hosts/1", { id: "1" }, /That host does not exist/],
      [poolById.PATCH, "PATCH", "/api/v1/pools/not-a-uuid", { id: "not-a-uuid" }, /That pool does not exist/],
      [leaseById.GET, "GET", "/api/v1/leases/'; drop table leases; --", { id: "'; drop table leases; --" }, /That lease does not exist/],
      [leaseExtend.POST, "POST", "/api/v1/leases/xyz/extend", { id: "xyz" }, /That lease does not exist/],
      [memberById.DELETE, "DELETE", `/api/v1/projects/${projectId}/members/bob`, { id: projectId, userId: "bob" }, /not a member of this project/],
      [userById.PATCH, "PATCH", "/api/v1/users/0", { id: "0" }, /That user does not exist/],
    ];
    for (const [handler, method, path, params, message] of cases) {
      const body = method === "PATCH" || method === "POST" ? { hours: 1 } : undefined;
      const res = await refused(handler, method, path, { params, body }, 404, message);
      expect(res.error.code).toBe("not_found");
    }
    // A well-formed id of nothing answers the same.
    const id = randomUUID();
    await refused(hostById.GET, "GET", `/api/v1/hosts/${id}`, { params: { id } }, 404, /That host does not exist/);
  });

  it("query parameters: a bad value is a 400 naming the parameter; unknown ones are ignored", async () => {
    const bad: [Handler, string, RegExp][] = [
      [hosts.GET, "/api/v1/hosts?state=melted", /^Query parameter state: Must be one of: new, /],
      [hosts.GET, "/api/v1/hosts?per_page=501", /^Query parameter per_page: per_page is at most 500/],
      [hosts.GET, "/api/v1/hosts?page=0", /^Query parameter page: page starts at 1/],
      [hosts.GET, "/api/v1/hosts?pool=rack-a", /^Query parameter pool: /],
      [hosts.GET, "/api/v1/hosts?sort=price", /^Query parameter sort: /],
      [leases.GET, "/api/v1/leases?scope=everyone", /^Query parameter scope: /],
      [leases.GET, "/api/v1/leases?hostId=h1", /^Query parameter hostId: /],
      [audit.GET, "/api/v1/audit?from=yesterday", /^Query parameter from: Use an ISO 8601 date or time/],
      [users.GET, "/api/v1/users?filter=vip", /^Query parameter filter: /],
      [pools.GET, "/api/v1/pools?page=-1", /^Query parameter page: /],
    ];
    for (const [handler, path, message] of bad) await refused(handler, "GET", path, {}, 400, message);
    const ok = await callRoute<{ data: unknown[]; pagination: { page: number; perPage: number; total: number } }>(hosts.GET, "GET", "/api/v1/hosts?colour=blue&per_page=2", { token: adminToken });
    expect(ok.status).toBe(200);
    expect(ok.body.pagination).toMatchObject({ page: 1, perPage: 2 });
    expect(ok.body.data).toHaveLength(2);
    expect(ok.body.pagination.total).toBeGreaterThan(2);
  });
});
