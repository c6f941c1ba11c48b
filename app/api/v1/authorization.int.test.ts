// The authorization table: every /api/v1 operation called, through its real route handler
// and the real guard, by each kind of caller. Each cell prepares its own target (a fresh
// host, lease, pool…), so a success in one cell never changes what the next one sees.
import { insertRefusedDirectoryEntry } from "@/test/harness/directory";
import { callRoute, type CallOptions } from "@/test/harness/route-handler";
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_ROUTES } from "@/lib/api/routes";
import { actorOf, type Actor } from "@/lib/access/actor";
import { createApiToken, revokeOwnApiToken } from "@/lib/auth/api-tokens";
import { markForReinstall, updateBootSettings } from "@/lib/boot/boot-settings";
import { cancelDeployment } from "@/lib/deployments/commands";
import { startDeployment } from "@/lib/deployments/start";
import { stopLiveHub } from "@/lib/deployments/live";
import { stopJobSender } from "@/lib/jobs/enqueue";
import { createHost } from "@/lib/hosts/hosts";
import { createLease } from "@/lib/leases/leases";
import { createPool } from "@/lib/pools/pools";
import { addProjectMember, createProject } from "@/lib/projects/projects";
import { createTemplate } from "@/lib/templates/templates";
import { createImage } from "@/lib/images/images";
import { useTestDb } from "@/test/harness/database";
import { createActiveUser, expireApiToken, type UserRow } from "@/test/harness/fixtures";
import { recordReadyImageVersion } from "@/test/harness/images";
import { seedHosts } from "@/test/harness/inventory";
import * as audit from "./audit/route";
import * as hostAccept from "./hosts/[id]/accept/route";
import * as hostCommission from "./hosts/[id]/commission/route";
import * as hostFacts from "./hosts/[id]/facts/route";
import * as hostById from "./hosts/[id]/route";
import * as hostState from "./hosts/[id]/state/route";
import * as hostPower from "./hosts/[id]/power/route";
import * as hostConsole from "./hosts/[id]/console/route";
import * as hostPowerTest from "./hosts/[id]/power/test/route";
import * as hostPowerList from "./hosts/power/route";
import * as hostBulk from "./hosts/bulk/route";
import * as hostImport from "./hosts/import/route";
import * as hosts from "./hosts/route";
import * as leaseExtend from "./leases/[id]/extend/route";
import * as leaseHandover from "./leases/[id]/handover/route";
import * as leaseRelease from "./leases/[id]/release/route";
import * as leaseById from "./leases/[id]/route";
import * as leases from "./leases/route";
import * as me from "./me/route";
import * as openapi from "./openapi.json/route";
import * as poolById from "./pools/[id]/route";
import * as poolMatches from "./pools/[id]/matches/route";
import * as pools from "./pools/route";
import * as siteById from "./sites/[id]/route";
import * as sites from "./sites/route";
import * as bootServerById from "./boot-servers/[id]/route";
import * as bootServers from "./boot-servers/route";
import { createSite, listBootServers, recordBootServerHeartbeat, recordBootServerStopped } from "@/lib/sites/sites";
import * as memberById from "./projects/[id]/members/[userId]/route";
import * as members from "./projects/[id]/members/route";
import * as projectById from "./projects/[id]/route";
import * as projects from "./projects/route";
import * as templateDiff from "./templates/[id]/diff/route";
import * as templateById from "./templates/[id]/route";
import * as templateVersions from "./templates/[id]/versions/route";
import * as templatePreview from "./templates/preview/route";
import * as templates from "./templates/route";
import * as hostBoot from "./hosts/[id]/boot/route";
import * as imageById from "./images/[id]/route";
import * as imageVersionById from "./images/[id]/versions/[version]/route";
import * as imageVersions from "./images/[id]/versions/route";
import * as images from "./images/route";
import * as hostReinstall from "./hosts/[id]/reinstall/route";
import * as hostNextBoot from "./hosts/[id]/next-boot/route";
import * as hostDiskless from "./hosts/[id]/diskless/route";
import * as hostDisklessReinstall from "./hosts/[id]/diskless/reinstall/route";
import * as hostDisklessCapture from "./hosts/[id]/diskless/capture/route";
import * as hostVars from "./hosts/[id]/vars/route";
import * as deploymentCancel from "./deployments/[id]/cancel/route";
import * as deploymentRetry from "./deployments/[id]/retry/route";
import * as deploymentById from "./deployments/[id]/route";
import * as records from "./records/route";
import * as recordById from "./records/[id]/route";
import * as recordPublish from "./records/[id]/publish/route";
import * as recordDiff from "./records/[id]/diff/route";
import * as recordRerun from "./records/[id]/rerun/route";
import { publishRunRecord } from "@/lib/deployments/record-access";
import * as hostDeployments from "./hosts/[id]/deployments/route";
import * as leaseDeploy from "./leases/[id]/deploy/route";
import * as leaseCapture from "./leases/[id]/capture/route";
import * as leaseDisks from "./leases/[id]/disks/route";
import * as leaseDiskById from "./leases/[id]/disks/[diskId]/route";
import { createLeaseDisks } from "@/lib/extra-disks/extra-disks";
import * as groupById from "./deployment-groups/[id]/route";
import * as groupRetryFailed from "./deployment-groups/[id]/retry-failed/route";
import { startDeploymentGroup } from "@/lib/deployments/groups";
import * as hostEvents from "./hosts/[id]/events/route";
import * as userById from "./users/[id]/route";
import * as users from "./users/route";
import * as directoryStatus from "./directory/status/route";
import * as directoryEntries from "./directory/entries/route";
import * as directoryResync from "./directory/resync/route";
import * as directoryEntryLink from "./directory/entries/[id]/link/route";
import * as reservations from "./reservations/route";
import * as reservationById from "./reservations/[id]/route";
import * as maintenanceWindows from "./maintenance-windows/route";
import * as maintenanceWindowById from "./maintenance-windows/[id]/route";
import { createReservation } from "@/lib/reservations/reservations";
import { createMaintenanceWindow } from "@/lib/reservations/maintenance";
import * as poolTimeline from "./pools/[id]/timeline/route";
import * as calendarFeeds from "./calendar-feeds/route";
import * as calendarFeedById from "./calendar-feeds/[id]/route";
import { createCalendarFeed } from "@/lib/calendar/feeds";
import * as vpnGatewayPeers from "./vpn/gateway/wireguard.conf/route";
import * as vpnGatewayRules from "./vpn/gateway/nftables.conf/route";
import { setTestEnv } from "@/test/harness/env";
import * as myVpnDevices from "./me/vpn-devices/route";
import * as myOpenVpn from "./me/openvpn.ovpn/route";
import * as myVpnDeviceById from "./me/vpn-devices/[id]/route";
import * as myVpnDeviceConf from "./me/vpn-devices/[id]/wireguard.conf/route";
import * as vpnDevices from "./vpn-devices/route";
import * as vpnDeviceById from "./vpn-devices/[id]/route";
import { createVpnDevice, listMyVpnDevices, revokeVpnDevice } from "@/lib/vpn/devices";
import { generateKeyPair } from "@/lib/vpn/wireguard";

const t = await useTestDb();
// Starting a run enqueues its power job and opening a stream starts the listener: close both.
afterAll(async () => {
  await stopLiveHub();
  await stopJobSender();
});

const CALLERS = ["anonymous", "outsider", "member", "leader", "holder", "admin", "revoked", "expired"] as const;
type Caller = (typeof CALLERS)[number];
type Statuses = Record<Caller, number>;

/**
 * outsider: an active account in no project and holding nothing. member / leader: of the
 * project the leases are charged to. holder: a member holding the lease (or host) in question.
 * revoked / expired: an administrator's token, revoked or past its expiry — still refused.
 */
type World = {
  admin: UserRow;
  adminActor: Actor;
  users: Record<Exclude<Caller, "anonymous" | "revoked" | "expired">, UserRow>;
  tokens: Record<Exclude<Caller, "anonymous">, string>;
  poolId: string;
  projectId: string;
};
let w: World;

const tag = () => randomBytes(4).toString("hex");
let macCounter = 0;
function mac(): string {
  const n = ++macCounter;
  return `52:54:aa:${((n >> 16) & 255).toString(16).padStart(2, "0")}:${((n >> 8) & 255).toString(16).padStart(2, "0")}:${(n & 255).toString(16).padStart(2, "0")}`;
}

async function newHost(poolId: string | null = w.poolId) {
  return createHost(t.db, w.adminActor, { name: `h-${tag()}`, poolId, interfaces: [{ mac: mac() }] });
}

async function newSite() {
  return createSite(t.db, w.adminActor, { name: `site-${tag()}` });
}

/** A boot server that reported once and shut down cleanly (only such a one may be forgotten); its id. */
async function stoppedBootServer(): Promise<string> {
  const site = await newSite();
  const name = `boot-${tag()}:8081`;
  await recordBootServerHeartbeat(t.db, { name, siteId: site.id, url: "http://10.9.0.5:8081", version: "test", pid: 1, startedAt: new Date(), intervalSeconds: 10, requests: 0, errors: 0, answeredFromMemory: 0, totalRequests: 0, totalErrors: 0 });
  await recordBootServerStopped(t.db, name);
  return (await listBootServers(t.db, w.adminActor)).find((b) => b.name === name)!.id;
}

/** Tomorrow (the route handlers read the real clock), for reservations and maintenance windows. */
function tomorrow(hours: number): string {
  return new Date(Date.now() + (24 + hours) * 3600_000).toISOString();
}

/** A reservation of one host of a fresh pool, held by `holder` and charged to the shared project. */
async function holderReservation() {
  const pool = await createPool(t.db, w.adminActor, { name: `rp-${tag()}` });
  await newHost(pool.id);
  return createReservation(t.db, actorOf(w.users.holder, null), { poolId: pool.id, projectId: w.projectId, startsAt: tomorrow(0), endsAt: tomorrow(2) });
}

/** A lease of one fresh host, held by `holder` and charged to the shared project. */
async function holderLease() {
  const host = await newHost();
  const lease = await createLease(t.db, w.adminActor, { hostIds: [host.id], userId: w.users.holder.id, projectId: w.projectId });
  return { leaseId: lease.id, hostId: host.id };
}

const IPXE = "#!ipxe\necho booting {{ host.name }}\nexit\n";

/**
 * A system template owned by the holder: private, or shared with the project (then its
 * members read it, and still only its owner changes it).
 */
async function holderTemplate(visibility: "private" | "project" = "private") {
  return createTemplate(t.db, actorOf(w.users.holder, null), {
    name: `tpl-${tag()}`, kind: "system", format: "ipxe", source: IPXE, visibility, projectId: visibility === "project" ? w.projectId : undefined,
  });
}

/**
 * An image owned by the holder (private, or shared with the project: then its members read
 * it, and only its owner changes it), with one ready version recorded (no bytes: the API
 * rows here never read them).
 */
async function holderImage(visibility: "private" | "project" = "private") {
  const image = await createImage(t.db, actorOf(w.users.holder, null), { name: `img-${tag()}`, visibility, projectId: visibility === "project" ? w.projectId : undefined });
  await recordReadyImageVersion(t.db, { imageId: image.id, sizeBytes: 512, sha256: "0".repeat(64), uploadedByUserId: w.users.holder.id });
  return image;
}

/** A host the holder leases, with a system template chosen for its next boot. */
async function holderBootableHost() {
  const { hostId } = await holderLease();
  const tpl = await holderTemplate();
  await updateBootSettings(t.db, actorOf(w.users.holder, null), hostId, { systemTemplateId: tpl.id });
  return hostId;
}

/** A wipe run the holder started on a fresh host they hold. */
async function holderRun() {
  const { hostId } = await holderLease();
  const run = await startDeployment(t.db, actorOf(w.users.holder, null), hostId, { action: "wipe_disk" });
  return { hostId, deploymentId: run.id };
}

/** A deployment group (a wipe) the holder started on a fresh lease of one host. */
async function holderGroup() {
  const { leaseId } = await holderLease();
  return startDeploymentGroup(t.db, actorOf(w.users.holder, null), { leaseId, spec: { action: "wipe_disk" } });
}

/** An install the holder started on a fresh host they hold, with its run record. */
async function holderRecord() {
  const { hostId } = await holderLease();
  const tpl = await holderTemplate();
  const run = await startDeployment(t.db, actorOf(w.users.holder, null), hostId, { action: "install", systemTemplateId: tpl.id });
  return { hostId, deploymentId: run.id, recordId: run.recordId! };
}

const VPN_SERVER_KEY = generateKeyPair().publicKey;

/** WireGuard configured for this row (the test's env is reset before each row). */
function vpnOn() {
  setTestEnv({ KILN_VPN_ENDPOINT: "vpn.lab.example:51820", KILN_VPN_SERVER_PUBLIC_KEY: VPN_SERVER_KEY, KILN_VPN_ADDRESS_RANGE: "10.250.0.0/16" });
}

/** A WireGuard device of the holder's, with WireGuard configured; their older ones revoked (10 at most). */
async function holderVpnDevice() {
  vpnOn();
  const holder = actorOf(w.users.holder, null);
  for (const d of (await listMyVpnDevices(t.db, holder)).data) await revokeVpnDevice(t.db, holder, d.id, "own");
  return createVpnDevice(t.db, actorOf(w.users.holder, null), { name: `h${tag().slice(0, 6)}`, publicKey: generateKeyPair().publicKey });
}

/** An event stream never ends: answer its status and headers, and hang up. */
function streamStatus(handler: Handler): Handler {
  return async (req, ctx) => {
    const res = await handler(req, ctx);
    if (!res.headers.get("content-type")?.startsWith("text/event-stream")) return res;
    await res.body?.cancel();
    return new Response("stream opened", { status: res.status });
  };
}

beforeAll(async () => {
  const { user: admin } = await createActiveUser(t.db, { admin: true });
  const adminActor = actorOf(admin, null);
  const roles = ["outsider", "member", "leader", "holder"] as const;
  const people = Object.fromEntries(await Promise.all(roles.map(async (r) => [r, (await createActiveUser(t.db, { email: `${r}-${tag()}@lab.example` })).user]))) as Record<(typeof roles)[number], UserRow>;
  const pool = await createPool(t.db, adminActor, { name: `pool-${tag()}` });
  const project = await createProject(t.db, adminActor, { name: `proj-${tag()}` });
  await addProjectMember(t.db, adminActor, project.id, { userId: people.member.id });
  await addProjectMember(t.db, adminActor, project.id, { userId: people.holder.id });
  await addProjectMember(t.db, adminActor, project.id, { userId: people.leader.id, role: "leader" });

  const tokenOf = async (u: UserRow, name = "table") => (await createApiToken(t.db, u.id, { name })).token;
  const revoked = await createApiToken(t.db, admin.id, { name: "revoked" });
  await revokeOwnApiToken(t.db, admin.id, revoked.id);
  const expired = await createApiToken(t.db, admin.id, { name: "expired", expiresInDays: 1 });
  await expireApiToken(t.db, expired.id);

  w = {
    admin,
    adminActor,
    users: { ...people, admin },
    tokens: {
      outsider: await tokenOf(people.outsider),
      member: await tokenOf(people.member),
      leader: await tokenOf(people.leader),
      holder: await tokenOf(people.holder),
      admin: await tokenOf(admin),
      revoked: revoked.token,
      expired: expired.token,
    },
    poolId: pool.id,
    projectId: project.id,
  };
});

type Handler = (req: Request, ctx: never) => Promise<Response>;

type Row = {
  /** `METHOD /path` as in the OpenAPI registry, plus an optional note. */
  op: string;
  handler: Handler;
  /** Builds this cell's target; runs once per caller. */
  prepare?: (who: Caller) => Promise<{ path?: string; params?: Record<string, string>; body?: unknown }>;
  path?: string;
  body?: unknown;
  expect: Statuses;
  /** More checks on a successful answer. */
  check?: (body: any, who: Caller) => void;
};

// Shorthands for the common shapes of a row's expectations.
const OUT = { anonymous: 401, revoked: 401, expired: 401 } as const;
const everyone = (status: number): Statuses => ({ ...OUT, outsider: status, member: status, leader: status, holder: status, admin: status });
const adminOnly = (status: number): Statuses => ({ ...OUT, outsider: 403, member: 403, leader: 403, holder: 403, admin: status });
/** Hosts and leases of others: 404, so ids reveal nothing. */
const holderAndAdmin = (status: number): Statuses => ({ ...OUT, outsider: 404, member: 404, leader: 404, holder: status, admin: status });

const ROWS: Row[] = [
  // Hosts
  {
    op: "GET /api/v1/hosts", handler: hosts.GET,
    prepare: async () => { await holderLease(); return {}; },
    expect: everyone(200),
    check: (body: { data: { lease: { holderEmail: string } | null }[] }, who) => {
      if (who === "admin") expect(body.data.length).toBeGreaterThan(0);
      else if (who === "holder") expect(body.data.length > 0 && body.data.every((h) => h.lease?.holderEmail === w.users.holder.email)).toBe(true);
      else expect(body.data).toEqual([]);
    },
  },
  {
    op: "POST /api/v1/hosts", handler: hosts.POST,
    prepare: async () => ({ body: { name: `new-${tag()}`, poolId: w.poolId, interfaces: [{ mac: mac() }] } }),
    expect: adminOnly(201),
  },
  {
    op: "GET /api/v1/hosts/{id}", handler: hostById.GET,
    prepare: async () => { const { hostId } = await holderLease(); return { params: { id: hostId } }; },
    expect: holderAndAdmin(200),
    check: (body: { host: { power?: unknown } }, who) => expect(body.host.power === undefined).toBe(who !== "admin"),
  },
  {
    op: "PATCH /api/v1/hosts/{id}", handler: hostById.PATCH,
    prepare: async () => { const { hostId } = await holderLease(); return { params: { id: hostId }, body: { notes: "patched" } }; },
    // Even the holder of a host cannot change its inventory.
    expect: adminOnly(200),
  },
  {
    op: "DELETE /api/v1/hosts/{id}", handler: hostById.DELETE,
    prepare: async () => ({ params: { id: (await newHost()).id } }),
    expect: adminOnly(200),
  },
  {
    op: "POST /api/v1/hosts/{id}/state", handler: hostState.POST,
    prepare: async () => ({ params: { id: (await newHost()).id }, body: { state: "maintenance", reason: "fan noise" } }),
    expect: adminOnly(200),
  },
  {
    op: "POST /api/v1/hosts/{id}/accept", handler: hostAccept.POST,
    prepare: async () => ({ params: { id: (await seedHosts(t.db, { count: 1, prefix: `disc-${tag()}`, state: "new" }))[0]!.id }, body: { poolId: w.poolId } }),
    expect: adminOnly(200),
  },
  {
    // Manual power: the run waits for someone to restart the machine; nothing is powered in the test.
    op: "POST /api/v1/hosts/{id}/commission", handler: hostCommission.POST,
    prepare: async () => ({ params: { id: (await newHost()).id } }),
    expect: adminOnly(201),
  },
  {
    op: "GET /api/v1/hosts/{id}/facts", handler: hostFacts.GET,
    prepare: async () => { const { hostId } = await holderLease(); return { params: { id: hostId } }; },
    expect: holderAndAdmin(200),
  },
  {
    op: "POST /api/v1/hosts/bulk", handler: hostBulk.POST,
    prepare: async () => ({ body: { hostIds: [(await newHost()).id, (await newHost()).id], action: "maintenance" } }),
    expect: adminOnly(200),
  },
  {
    op: "POST /api/v1/hosts/import", handler: hostImport.POST,
    prepare: async () => ({ body: { hosts: [{ name: `imp-${tag()}`, macs: [mac()] }] } }),
    expect: adminOnly(201),
  },

  // Pools
  { op: "GET /api/v1/pools", handler: pools.GET, expect: everyone(200), check: (body: { data: unknown[] }) => expect(body.data.length).toBeGreaterThan(0) },
  { op: "POST /api/v1/pools", handler: pools.POST, prepare: async () => ({ body: { name: `p-${tag()}` } }), expect: adminOnly(201) },
  { op: "GET /api/v1/pools/{id}", handler: poolById.GET, prepare: async () => ({ params: { id: w.poolId } }), expect: everyone(200) },
  {
    // Everyone sees each pool's free count (GET /pools); this narrows it by hardware.
    op: "GET /api/v1/pools/{id}/matches", handler: poolMatches.GET,
    prepare: async () => ({ params: { id: w.poolId }, path: `/api/v1/pools/${w.poolId}/matches?minCores=1&diskType=ssd` }),
    expect: everyone(200),
    check: (body: { free: number; criteria: unknown[] }) => expect(body.criteria).toHaveLength(2),
  },
  {
    op: "PATCH /api/v1/pools/{id}", handler: poolById.PATCH,
    prepare: async () => ({ params: { id: (await createPool(t.db, w.adminActor, { name: `p-${tag()}` })).id }, body: { description: "changed" } }),
    expect: adminOnly(200),
  },
  {
    op: "DELETE /api/v1/pools/{id}", handler: poolById.DELETE,
    prepare: async () => ({ params: { id: (await createPool(t.db, w.adminActor, { name: `p-${tag()}` })).id } }),
    expect: adminOnly(200),
  },

  // Sites and boot servers: administrators only, every one of them.
  { op: "GET /api/v1/sites", handler: sites.GET, expect: adminOnly(200), check: (body: { data: unknown[] }) => expect(body.data.length).toBeGreaterThan(0) },
  { op: "POST /api/v1/sites", handler: sites.POST, prepare: async () => ({ body: { name: `s-${tag()}`, bootUrl: "http://10.9.0.5:8080" } }), expect: adminOnly(201) },
  { op: "GET /api/v1/sites/{id}", handler: siteById.GET, prepare: async () => ({ params: { id: (await newSite()).id } }), expect: adminOnly(200) },
  { op: "PATCH /api/v1/sites/{id}", handler: siteById.PATCH, prepare: async () => ({ params: { id: (await newSite()).id }, body: { bootUrl: null } }), expect: adminOnly(200) },
  { op: "DELETE /api/v1/sites/{id}", handler: siteById.DELETE, prepare: async () => ({ params: { id: (await newSite()).id } }), expect: adminOnly(200) },
  {
    op: "GET /api/v1/boot-servers", handler: bootServers.GET, prepare: async () => { await stoppedBootServer(); return {}; }, expect: adminOnly(200),
    check: (body: { data: unknown[] }) => expect(body.data.length).toBeGreaterThan(0),
  },
  { op: "DELETE /api/v1/boot-servers/{id}", handler: bootServerById.DELETE, prepare: async () => ({ params: { id: await stoppedBootServer() } }), expect: adminOnly(200) },

  // Projects
  {
    op: "GET /api/v1/projects", handler: projects.GET, expect: everyone(200),
    check: (body: { data: { id: string }[] }, who) => expect(body.data.some((p) => p.id === w.projectId)).toBe(who !== "outsider"),
  },
  { op: "POST /api/v1/projects", handler: projects.POST, prepare: async () => ({ body: { name: `pr-${tag()}` } }), expect: adminOnly(201) },
  {
    op: "GET /api/v1/projects/{id}", handler: projectById.GET, prepare: async () => ({ params: { id: w.projectId } }),
    expect: { ...OUT, outsider: 404, member: 200, leader: 200, holder: 200, admin: 200 },
  },
  {
    op: "PATCH /api/v1/projects/{id}", handler: projectById.PATCH,
    prepare: async () => ({ params: { id: w.projectId }, body: { description: `changed ${tag()}` } }),
    // Leaders manage membership, not quotas.
    expect: adminOnly(200),
  },
  {
    op: "DELETE /api/v1/projects/{id}", handler: projectById.DELETE,
    prepare: async () => ({ params: { id: (await createProject(t.db, w.adminActor, { name: `pr-${tag()}` })).id } }),
    expect: adminOnly(200),
  },
  {
    op: "POST /api/v1/projects/{id}/members", handler: members.POST,
    prepare: async () => ({ params: { id: w.projectId }, body: { email: (await createActiveUser(t.db)).user.email } }),
    expect: { ...OUT, outsider: 404, member: 403, leader: 201, holder: 403, admin: 201 },
  },
  {
    op: "DELETE /api/v1/projects/{id}/members/{userId}", handler: memberById.DELETE,
    prepare: async () => {
      const { user } = await createActiveUser(t.db);
      await addProjectMember(t.db, w.adminActor, w.projectId, { userId: user.id });
      return { params: { id: w.projectId, userId: user.id } };
    },
    expect: { ...OUT, outsider: 404, member: 403, leader: 200, holder: 403, admin: 200 },
  },

  // Leases
  {
    op: "GET /api/v1/leases", handler: leases.GET,
    prepare: async () => { await holderLease(); return {}; },
    expect: everyone(200),
    // scope=mine: only the caller's own leases, whoever asks.
    check: (body: { data: { userId: string }[] }, who) => {
      if (who === "holder") expect(body.data.length).toBeGreaterThan(0);
      const self = w.users[who as keyof World["users"]];
      expect(body.data.every((l) => l.userId === self.id)).toBe(true);
    },
  },
  {
    op: "GET /api/v1/leases (scope=all)", handler: leases.GET, path: "/api/v1/leases?scope=all",
    expect: adminOnly(200),
  },
  {
    op: "POST /api/v1/leases", handler: leases.POST,
    prepare: async () => {
      const pool = await createPool(t.db, w.adminActor, { name: `lp-${tag()}` });
      await newHost(pool.id);
      return { body: { poolId: pool.id, count: 1 } };
    },
    // Every lease is charged to a project the holder belongs to: the outsider and the admin
    // (a member of nothing here) are refused; admins lease for others with `userId`.
    expect: { ...OUT, outsider: 403, member: 201, leader: 201, holder: 201, admin: 403 },
  },
  {
    op: "GET /api/v1/leases/{id}", handler: leaseById.GET,
    prepare: async () => ({ params: { id: (await holderLease()).leaseId } }),
    expect: holderAndAdmin(200),
  },
  {
    op: "POST /api/v1/leases/{id}/extend", handler: leaseExtend.POST,
    prepare: async () => ({ params: { id: (await holderLease()).leaseId }, body: { hours: 2 } }),
    expect: holderAndAdmin(200),
  },
  {
    op: "POST /api/v1/leases/{id}/release", handler: leaseRelease.POST,
    prepare: async () => ({ params: { id: (await holderLease()).leaseId } }),
    expect: holderAndAdmin(200),
  },
  {
    op: "POST /api/v1/leases/{id}/handover", handler: leaseHandover.POST,
    prepare: async () => ({ params: { id: (await holderLease()).leaseId }, body: { toEmail: w.users.member.email } }),
    expect: holderAndAdmin(200),
  },

  // Reservations and maintenance windows
  {
    op: "GET /api/v1/reservations", handler: reservations.GET,
    prepare: async () => { await holderReservation(); return {}; },
    expect: everyone(200),
    // scope=mine: only the caller's own reservations, whoever asks.
    check: (body: { data: { userId: string }[] }, who) => {
      if (who === "holder") expect(body.data.length).toBeGreaterThan(0);
      const self = w.users[who as keyof World["users"]];
      expect(body.data.every((r) => r.userId === self.id)).toBe(true);
    },
  },
  {
    op: "GET /api/v1/reservations (scope=all)", handler: reservations.GET, path: "/api/v1/reservations?scope=all",
    expect: adminOnly(200),
  },
  {
    op: "POST /api/v1/reservations", handler: reservations.POST,
    prepare: async () => {
      const pool = await createPool(t.db, w.adminActor, { name: `rp-${tag()}` });
      await newHost(pool.id);
      return { body: { poolId: pool.id, startsAt: tomorrow(0), endsAt: tomorrow(1) } };
    },
    // Charged to a project the holder belongs to, as a lease is.
    expect: { ...OUT, outsider: 403, member: 201, leader: 201, holder: 201, admin: 403 },
  },
  {
    op: "GET /api/v1/reservations/{id}", handler: reservationById.GET,
    prepare: async () => ({ params: { id: (await holderReservation()).id } }),
    expect: holderAndAdmin(200),
  },
  {
    op: "DELETE /api/v1/reservations/{id}", handler: reservationById.DELETE,
    prepare: async () => ({ params: { id: (await holderReservation()).id } }),
    expect: holderAndAdmin(200),
  },
  { op: "GET /api/v1/maintenance-windows", handler: maintenanceWindows.GET, expect: everyone(200) },
  {
    op: "POST /api/v1/maintenance-windows", handler: maintenanceWindows.POST,
    prepare: async () => ({ body: { hostId: (await newHost()).id, startsAt: tomorrow(0), endsAt: tomorrow(1), reason: "test" } }),
    expect: adminOnly(201),
  },
  {
    op: "DELETE /api/v1/maintenance-windows/{id}", handler: maintenanceWindowById.DELETE,
    prepare: async () => {
      const { window } = await createMaintenanceWindow(t.db, w.adminActor, { hostId: (await newHost()).id, startsAt: tomorrow(0), endsAt: tomorrow(1) });
      return { params: { id: window.id } };
    },
    expect: adminOnly(200),
  },

  // Calendar: every signed-in user sees a pool's timeline (others' bookings by project); feeds are each one's own.
  {
    op: "GET /api/v1/pools/{id}/timeline", handler: poolTimeline.GET,
    prepare: async () => { await holderLease(); return { params: { id: w.poolId } }; },
    expect: everyone(200),
    check: (body: { items: { kind: string; mine: boolean }[] }, who) => {
      expect(body.items.some((i) => i.kind === "lease")).toBe(true);
      if (who !== "holder") expect(JSON.stringify(body)).not.toContain(w.users.holder.email);
    },
  },
  { op: "GET /api/v1/calendar-feeds", handler: calendarFeeds.GET, expect: everyone(200) },
  {
    op: "POST /api/v1/calendar-feeds", handler: calendarFeeds.POST,
    prepare: async () => ({ body: { poolId: w.poolId } }),
    expect: everyone(201),
    check: (body: { url: string }) => expect(body.url).toMatch(/\/calendar\/kiln_cal_[\w-]+\.ics$/),
  },
  {
    op: "DELETE /api/v1/calendar-feeds/{id} (the holder's own feed)", handler: calendarFeedById.DELETE,
    prepare: async () => ({ params: { id: (await createCalendarFeed(t.db, actorOf(w.users.holder, null), {})).id } }),
    expect: { ...OUT, outsider: 404, member: 404, leader: 404, holder: 200, admin: 404 },
  },

  // Lab access: WireGuard on for these rows; a person's devices are theirs alone (404 to
  // others, administrators included, on /me), administrators manage everyone's on /vpn-devices.
  {
    op: "GET /api/v1/me/vpn-devices", handler: myVpnDevices.GET,
    prepare: async () => { vpnOn(); return {}; },
    expect: everyone(200),
  },
  {
    op: "POST /api/v1/me/vpn-devices", handler: myVpnDevices.POST,
    prepare: async () => { vpnOn(); return { body: { name: `d${tag().slice(0, 6)}`, generate: "server" } }; },
    expect: everyone(201),
    check: (body: { privateKey: string; config: string }) => expect(body.config).toContain(`PrivateKey = ${body.privateKey}`),
  },
  {
    op: "GET /api/v1/me/vpn-devices/{id}/wireguard.conf (the holder's own device)", handler: myVpnDeviceConf.GET,
    prepare: async () => ({ params: { id: (await holderVpnDevice()).id } }),
    expect: { ...OUT, outsider: 404, member: 404, leader: 404, holder: 200, admin: 404 },
    check: (body: string) => expect(body).toMatch(/^\[Interface\]/),
  },
  {
    op: "DELETE /api/v1/me/vpn-devices/{id} (the holder's own device)", handler: myVpnDeviceById.DELETE,
    prepare: async () => ({ params: { id: (await holderVpnDevice()).id } }),
    expect: { ...OUT, outsider: 404, member: 404, leader: 404, holder: 200, admin: 404 },
  },
  {
    op: "GET /api/v1/me/openvpn.ovpn", handler: myOpenVpn.GET,
    prepare: async () => {
      const ca = path.join(os.tmpdir(), `kiln-authz-ca-${process.pid}.pem`);
      await writeFile(ca, "-----BEGIN CERTIFICATE-----\nMIIBdummy\n-----END CERTIFICATE-----\n");
      setTestEnv({ KILN_OPENVPN_REMOTE: "vpn.lab.example 1194", KILN_OPENVPN_CA_FILE: ca });
      return {};
    },
    expect: everyone(200),
    check: (body: string) => expect(body).toContain("remote vpn.lab.example 1194"),
  },
  {
    op: "GET /api/v1/vpn-devices", handler: vpnDevices.GET,
    prepare: async () => { vpnOn(); return {}; },
    expect: adminOnly(200),
  },
  {
    op: "DELETE /api/v1/vpn-devices/{id} (the holder's device)", handler: vpnDeviceById.DELETE,
    prepare: async () => ({ params: { id: (await holderVpnDevice()).id } }),
    expect: adminOnly(200),
  },

  // Templates: "holder" is also the templates' owner here.
  { op: "GET /api/v1/templates", handler: templates.GET, expect: everyone(200) },
  {
    op: "POST /api/v1/templates", handler: templates.POST,
    prepare: async () => ({ body: { name: `mine-${tag()}`, kind: "system", format: "ipxe", source: IPXE } }),
    expect: everyone(201),
  },
  {
    op: "GET /api/v1/templates/{id}", handler: templateById.GET,
    prepare: async () => ({ params: { id: (await holderTemplate()).id } }),
    // Private: not even acknowledged to others.
    expect: holderAndAdmin(200),
  },
  {
    op: "GET /api/v1/templates/{id} (shared with the project)", handler: templateById.GET,
    prepare: async () => ({ params: { id: (await holderTemplate("project")).id } }),
    expect: { ...OUT, outsider: 404, member: 200, leader: 200, holder: 200, admin: 200 },
  },
  {
    op: "PATCH /api/v1/templates/{id}", handler: templateById.PATCH,
    prepare: async () => ({ params: { id: (await holderTemplate("project")).id }, body: { description: "changed" } }),
    // Project members read it; only its owner (and admins) change it.
    expect: { ...OUT, outsider: 404, member: 403, leader: 403, holder: 200, admin: 200 },
  },
  {
    op: "DELETE /api/v1/templates/{id}", handler: templateById.DELETE,
    prepare: async () => ({ params: { id: (await holderTemplate("project")).id } }),
    expect: { ...OUT, outsider: 404, member: 403, leader: 403, holder: 200, admin: 200 },
  },
  {
    op: "GET /api/v1/templates/{id}/diff", handler: templateDiff.GET,
    prepare: async () => { const id = (await holderTemplate()).id; return { params: { id }, path: `/api/v1/templates/${id}/diff?from=1&to=1` }; },
    expect: holderAndAdmin(200),
  },
  {
    op: "POST /api/v1/templates/{id}/versions", handler: templateVersions.POST,
    prepare: async () => ({ params: { id: (await holderTemplate("project")).id }, body: { source: `${IPXE}# v2\n` } }),
    expect: { ...OUT, outsider: 404, member: 403, leader: 403, holder: 201, admin: 201 },
  },
  {
    op: "POST /api/v1/templates/preview", handler: templatePreview.POST,
    prepare: async () => ({ body: { hostId: (await holderLease()).hostId, source: IPXE } }),
    expect: holderAndAdmin(200),
  },

  // Images: "holder" is also the images' owner here.
  { op: "GET /api/v1/images", handler: images.GET, prepare: async () => { await holderImage(); return {}; }, expect: everyone(200) },
  { op: "POST /api/v1/images", handler: images.POST, prepare: async () => ({ body: { name: `mine-${tag()}` } }), expect: everyone(201) },
  {
    op: "GET /api/v1/images/{id}", handler: imageById.GET,
    prepare: async () => ({ params: { id: (await holderImage()).id } }),
    // Private: not even acknowledged to others.
    expect: holderAndAdmin(200),
  },
  {
    op: "GET /api/v1/images/{id} (shared with the project)", handler: imageById.GET,
    prepare: async () => ({ params: { id: (await holderImage("project")).id } }),
    expect: { ...OUT, outsider: 404, member: 200, leader: 200, holder: 200, admin: 200 },
  },
  {
    op: "PATCH /api/v1/images/{id}", handler: imageById.PATCH,
    prepare: async () => ({ params: { id: (await holderImage("project")).id }, body: { description: "changed" } }),
    expect: { ...OUT, outsider: 404, member: 403, leader: 403, holder: 200, admin: 200 },
  },
  {
    op: "DELETE /api/v1/images/{id}", handler: imageById.DELETE,
    prepare: async () => ({ params: { id: (await holderImage("project")).id } }),
    expect: { ...OUT, outsider: 404, member: 403, leader: 403, holder: 200, admin: 200 },
  },
  {
    op: "GET /api/v1/images/{id}/versions", handler: imageVersions.GET,
    prepare: async () => ({ params: { id: (await holderImage()).id } }),
    expect: holderAndAdmin(200),
  },
  {
    op: "GET /api/v1/images/{id}/versions/{version}", handler: imageVersionById.GET,
    prepare: async () => ({ params: { id: (await holderImage("project")).id, version: "latest" } }),
    expect: { ...OUT, outsider: 404, member: 200, leader: 200, holder: 200, admin: 200 },
    check: (body: { version: number; usedBy: unknown[] }) => expect(body).toMatchObject({ version: 1, usedBy: [] }),
  },
  {
    op: "PATCH /api/v1/images/{id}/versions/{version}", handler: imageVersionById.PATCH,
    prepare: async () => ({ params: { id: (await holderImage("project")).id, version: "1" }, body: { notes: "tested" } }),
    expect: { ...OUT, outsider: 404, member: 403, leader: 403, holder: 200, admin: 200 },
  },
  {
    op: "DELETE /api/v1/images/{id}/versions/{version}", handler: imageVersionById.DELETE,
    prepare: async () => ({ params: { id: (await holderImage("project")).id, version: "1" } }),
    expect: { ...OUT, outsider: 404, member: 403, leader: 403, holder: 200, admin: 200 },
  },

  // Network boot: the holder of a host (and admins) decide what it boots.
  {
    op: "GET /api/v1/hosts/{id}/boot", handler: hostBoot.GET,
    prepare: async () => ({ params: { id: (await holderLease()).hostId } }),
    expect: holderAndAdmin(200),
  },
  {
    op: "PUT /api/v1/hosts/{id}/boot", handler: hostBoot.PUT,
    prepare: async () => ({ params: { id: (await holderLease()).hostId }, body: { vars: { hostname: "n1" } } }),
    expect: holderAndAdmin(200),
  },
  {
    op: "PUT /api/v1/hosts/{id}/vars", handler: hostVars.PUT,
    prepare: async () => ({ params: { id: (await holderLease()).hostId }, body: { vars: { rack: "r1" } } }),
    // Per-host variables are inventory: even the holder cannot set them.
    expect: adminOnly(200),
  },
  {
    op: "POST /api/v1/hosts/{id}/reinstall", handler: hostReinstall.POST,
    prepare: async () => ({ params: { id: await holderBootableHost() } }),
    expect: holderAndAdmin(201),
  },
  {
    op: "DELETE /api/v1/hosts/{id}/reinstall", handler: hostReinstall.DELETE,
    prepare: async () => {
      const id = await holderBootableHost();
      await markForReinstall(t.db, actorOf(w.users.holder, null), id);
      return { params: { id } };
    },
    expect: holderAndAdmin(200),
  },

  // Diskless roots (docs/diskless.md): 200 / 409 here (the held host has no root; a real one is
  // booted in lib/diskless/qemu-diskless.int.test.ts); others 404.
  {
    op: "GET /api/v1/hosts/{id}/diskless", handler: hostDiskless.GET,
    prepare: async () => ({ params: { id: (await holderLease()).hostId } }),
    expect: holderAndAdmin(200),
  },
  {
    op: "DELETE /api/v1/hosts/{id}/diskless", handler: hostDiskless.DELETE,
    prepare: async () => ({ params: { id: (await holderLease()).hostId } }),
    expect: holderAndAdmin(409),
  },
  {
    op: "POST /api/v1/hosts/{id}/diskless/reinstall", handler: hostDisklessReinstall.POST,
    prepare: async () => ({ params: { id: (await holderLease()).hostId } }),
    expect: holderAndAdmin(409),
  },
  {
    op: "POST /api/v1/hosts/{id}/diskless/capture", handler: hostDisklessCapture.POST,
    prepare: async () => ({ params: { id: (await holderLease()).hostId }, body: { imageId: "00000000-0000-4000-8000-000000000000" } }),
    expect: holderAndAdmin(409),
  },

  // What the next network boot does; "boot the disk anyway" (409 here: nothing is halted).
  {
    op: "GET /api/v1/hosts/{id}/next-boot", handler: hostNextBoot.GET,
    prepare: async () => ({ params: { id: (await holderLease()).hostId } }),
    expect: holderAndAdmin(200),
  },
  {
    op: "POST /api/v1/hosts/{id}/next-boot", handler: hostNextBoot.POST,
    prepare: async () => ({ params: { id: (await holderLease()).hostId } }),
    expect: holderAndAdmin(409),
  },

  // Power: the holder switches what they hold (manual driver: no hardware needed); admins test settings.
  {
    op: "GET /api/v1/hosts/{id}/power", handler: hostPower.GET,
    prepare: async () => ({ params: { id: (await holderLease()).hostId } }),
    expect: holderAndAdmin(200),
    check: (body: { state: string; reportsState: boolean }) => expect(body).toMatchObject({ state: "unknown", reportsState: false }),
  },
  {
    // A list's badges: everyone may ask; each caller gets only the hosts they may see.
    op: "GET /api/v1/hosts/power", handler: hostPowerList.GET,
    prepare: async () => ({ path: `/api/v1/hosts/power?ids=${(await holderLease()).hostId}` }),
    expect: everyone(200),
    check: (body: { data: unknown[] }, who) => expect(body.data).toHaveLength(who === "holder" || who === "admin" ? 1 : 0),
  },
  {
    op: "POST /api/v1/hosts/{id}/power", handler: hostPower.POST,
    prepare: async () => ({ params: { id: (await holderLease()).hostId }, body: { action: "cycle" } }),
    expect: holderAndAdmin(200),
  },
  {
    op: "POST /api/v1/hosts/{id}/power/test", handler: hostPowerTest.POST,
    prepare: async () => ({ params: { id: (await holderLease()).hostId } }),
    expect: adminOnly(200),
  },

  // Console tickets: only the holder and admins are told anything (a manual-power host has no
  // console, so they get the 409 that says so; others the 404 of a host they cannot see).
  {
    op: "POST /api/v1/hosts/{id}/console", handler: hostConsole.POST,
    prepare: async () => ({ params: { id: (await holderLease()).hostId } }),
    expect: holderAndAdmin(409),
  },

  // Provisioning: runs of a host belong to its holder (and admins); a manual-power host needs no hardware.
  {
    op: "GET /api/v1/hosts/{id}/deployments", handler: hostDeployments.GET,
    prepare: async () => ({ params: { id: (await holderRun()).hostId } }),
    expect: holderAndAdmin(200),
    check: (body: { data: unknown[] }) => expect(body.data).toHaveLength(1),
  },
  {
    op: "POST /api/v1/hosts/{id}/deployments", handler: hostDeployments.POST,
    prepare: async () => ({ params: { id: (await holderLease()).hostId }, body: { action: "wipe_disk" } }),
    expect: holderAndAdmin(201),
  },
  {
    op: "GET /api/v1/hosts/{id}/events", handler: streamStatus(hostEvents.GET),
    prepare: async () => ({ params: { id: (await holderRun()).hostId } }),
    expect: holderAndAdmin(200),
  },
  {
    op: "GET /api/v1/deployments/{id}", handler: deploymentById.GET,
    prepare: async () => ({ params: { id: (await holderRun()).deploymentId } }),
    expect: holderAndAdmin(200),
    check: (body: { steps: { name: string }[] }) => expect(body.steps.map((s) => s.name)).toEqual(["power_on", "boot", "agent", "wipe"]), // manual power: no power_off step
  },
  {
    op: "POST /api/v1/deployments/{id}/cancel", handler: deploymentCancel.POST,
    prepare: async () => ({ params: { id: (await holderRun()).deploymentId } }),
    expect: holderAndAdmin(200),
  },
  {
    op: "POST /api/v1/deployments/{id}/retry", handler: deploymentRetry.POST,
    prepare: async () => {
      const { deploymentId } = await holderRun();
      await cancelDeployment(t.db, actorOf(w.users.holder, null), deploymentId);
      return { params: { id: deploymentId } };
    },
    expect: holderAndAdmin(201),
  },

  // Deployment groups: a lease's holder (and admins) deploy to its hosts and follow the group.
  {
    op: "POST /api/v1/leases/{id}/deploy", handler: leaseDeploy.POST,
    prepare: async () => ({ params: { id: (await holderLease()).leaseId }, body: { spec: { action: "wipe_disk" } } }),
    expect: holderAndAdmin(201),
  },
  {
    op: "POST /api/v1/leases/{id}/capture", handler: leaseCapture.POST,
    prepare: async () => {
      const { leaseId, hostId } = await holderLease();
      return { params: { id: leaseId }, body: { hostId, newImageName: `capture-${tag()}` } };
    },
    expect: holderAndAdmin(201),
  },
  // Extra disks: the lease's holder (and admins) ask for, list and delete them.
  {
    op: "GET /api/v1/leases/{id}/disks", handler: leaseDisks.GET,
    prepare: async () => ({ params: { id: (await holderLease()).leaseId } }),
    expect: holderAndAdmin(200),
  },
  {
    op: "POST /api/v1/leases/{id}/disks", handler: leaseDisks.POST,
    prepare: async () => {
      const { leaseId, hostId } = await holderLease();
      return { params: { id: leaseId }, body: { hostId, count: 1, sizeGb: 0.01 } };
    },
    expect: holderAndAdmin(201),
    check: (body: { data: { name: string; state: string }[] }) => expect(body.data.map((d) => [d.name, d.state])).toEqual([["disk1", "creating"]]),
  },
  {
    op: "DELETE /api/v1/leases/{id}/disks/{diskId}", handler: leaseDiskById.DELETE,
    prepare: async () => {
      const { leaseId, hostId } = await holderLease();
      const { data } = await createLeaseDisks(t.db, actorOf(w.users.holder, null), leaseId, { hostId, sizeGb: 0.01 });
      return { params: { id: leaseId, diskId: data[0]!.id } };
    },
    expect: holderAndAdmin(200),
  },
  {
    op: "GET /api/v1/deployment-groups/{id}", handler: groupById.GET,
    prepare: async () => ({ params: { id: (await holderGroup()).groupId } }),
    expect: holderAndAdmin(200),
    check: (body: { hosts: unknown[] }) => expect(body.hosts).toHaveLength(1),
  },
  {
    op: "POST /api/v1/deployment-groups/{id}/retry-failed", handler: groupRetryFailed.POST,
    prepare: async () => {
      const { groupId, deploymentIds } = await holderGroup();
      await cancelDeployment(t.db, actorOf(w.users.holder, null), deploymentIds[0]!);
      return { params: { id: groupId } };
    },
    expect: holderAndAdmin(201),
  },

  // Run records: the project's members read them (404 for others, signed out included) until
  // published; a leader or an administrator publishes; diff and re-run need the host held.
  {
    op: "GET /api/v1/records", handler: records.GET,
    prepare: async () => { await holderRecord(); return { path: `/api/v1/records?projectId=${w.projectId}` }; },
    expect: { ...OUT, outsider: 404, member: 200, leader: 200, holder: 200, admin: 200 },
    check: (body: { data: unknown[] }) => expect(body.data.length).toBeGreaterThan(0),
  },
  {
    op: "GET /api/v1/records/{id}", handler: recordById.GET,
    prepare: async () => ({ params: { id: (await holderRecord()).recordId } }),
    expect: { anonymous: 404, outsider: 404, member: 200, leader: 200, holder: 200, admin: 200, revoked: 401, expired: 401 },
  },
  {
    op: "GET /api/v1/records/{id} (published: anyone, signed in or not)", handler: recordById.GET,
    prepare: async () => {
      const { recordId } = await holderRecord();
      await publishRunRecord(t.db, w.adminActor, recordId);
      return { path: `/api/v1/records/${recordId}`, params: { id: recordId } };
    },
    expect: { anonymous: 200, outsider: 200, member: 200, leader: 200, holder: 200, admin: 200, revoked: 401, expired: 401 },
  },
  {
    op: "POST /api/v1/records/{id}/publish", handler: recordPublish.POST,
    prepare: async () => ({ params: { id: (await holderRecord()).recordId } }),
    expect: { ...OUT, outsider: 404, member: 403, leader: 200, holder: 403, admin: 200 },
  },
  {
    op: "GET /api/v1/records/{id}/diff", handler: recordDiff.GET,
    prepare: async () => {
      const { recordId, hostId } = await holderRecord();
      return { path: `/api/v1/records/${recordId}/diff?hostId=${hostId}`, params: { id: recordId } };
    },
    expect: holderAndAdmin(200),
  },
  {
    op: "POST /api/v1/records/{id}/rerun", handler: recordRerun.POST,
    prepare: async () => {
      const { recordId, hostId, deploymentId } = await holderRecord();
      await cancelDeployment(t.db, actorOf(w.users.holder, null), deploymentId);
      return { params: { id: recordId }, body: { hostIds: [hostId] } };
    },
    expect: holderAndAdmin(201),
  },

  // The VPN gateway's files open with the gateway's token only: no person's token, not even an
  // administrator's (lib/vpn/gateway.int.test.ts reads them with the gateway's token).
  ...[
    ["GET /api/v1/vpn/gateway/wireguard.conf", vpnGatewayPeers.GET],
    ["GET /api/v1/vpn/gateway/nftables.conf", vpnGatewayRules.GET],
  ].map(([op, handler]): Row => ({
    op: op as string, handler: handler as Handler,
    prepare: async () => {
      setTestEnv({ KILN_VPN_ENDPOINT: "10.9.0.1:51820", KILN_VPN_SERVER_PUBLIC_KEY: "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=", KILN_VPN_GATEWAY_TOKEN: "gateway-token-for-the-authorization-table" });
      return {};
    },
    expect: { anonymous: 401, outsider: 401, member: 401, leader: 401, holder: 401, admin: 401, revoked: 401, expired: 401 },
  })),

  // Audit, users, me, the document
  { op: "GET /api/v1/audit", handler: audit.GET, expect: adminOnly(200) },
  {
    op: "GET /api/v1/me", handler: me.GET, expect: everyone(200),
    // A token acts as its owner, and only as its owner.
    check: (body: { user: { id: string }; via: string }, who) => {
      expect(body.user.id).toBe(w.users[who as keyof World["users"]].id);
      expect(body.via).toBe("token");
    },
  },
  { op: "GET /api/v1/users", handler: users.GET, expect: adminOnly(200) },
  {
    op: "PATCH /api/v1/users/{id}", handler: userById.PATCH,
    prepare: async () => ({ params: { id: (await createActiveUser(t.db)).user.id }, body: { role: "user" } }),
    expect: adminOnly(200),
  },
  {
    op: "DELETE /api/v1/users/{id}", handler: userById.DELETE,
    prepare: async () => ({ params: { id: (await createActiveUser(t.db)).user.id } }),
    expect: adminOnly(200),
  },

  // Directory (no directory configured here: the status says so, the rows are plain data)
  { op: "GET /api/v1/directory/status", handler: directoryStatus.GET, expect: adminOnly(200) },
  { op: "GET /api/v1/directory/entries", handler: directoryEntries.GET, expect: adminOnly(200) },
  { op: "POST /api/v1/directory/resync", handler: directoryResync.POST, expect: adminOnly(200) },
  {
    op: "POST /api/v1/directory/entries/{id}/link", handler: directoryEntryLink.POST,
    prepare: async () => {
      const { user } = await createActiveUser(t.db);
      const n = 50_000 + (++macCounter);
      const uid = `authz${tag()}`;
      const row = await insertRefusedDirectoryEntry(t.db, { userId: user.id, uid, number: n });
      return { params: { id: row.id } };
    },
    expect: adminOnly(200),
  },
  {
    op: "GET /api/v1/openapi.json", handler: openapi.GET,
    // Public: no credential is looked at, so even a dead token reads it.
    expect: { anonymous: 200, outsider: 200, member: 200, leader: 200, holder: 200, admin: 200, revoked: 200, expired: 200 },
  },
];

function requestOf(row: Row, who: Caller, prepared: { path?: string; params?: Record<string, string>; body?: unknown }): { method: string; path: string; options: CallOptions } {
  const [method, template] = row.op.split(" ") as [string, string];
  const params = prepared.params ?? {};
  const path = (prepared.path ?? row.path ?? template).replace(/\{(\w+)\}/g, (_, k: string) => params[k] ?? `missing-${k}`);
  const body = prepared.body ?? row.body;
  return { method, path, options: { token: who === "anonymous" ? undefined : w.tokens[who], params, body } };
}

describe("API authorization table", () => {
  it("has a row for every /api/v1 operation in the registry", () => {
    const ops = new Set(ROWS.map((r) => r.op.replace(/ \(.*\)$/, "")));
    const missing = API_ROUTES.filter((r) => r.path.startsWith("/api/v1/")).map((r) => `${r.method} ${r.path}`).filter((op) => !ops.has(op));
    expect(missing).toEqual([]);
  });

  for (const row of ROWS) {
    it(row.op, async () => {
      const got = {} as Statuses;
      const surprises: string[] = [];
      for (const who of CALLERS) {
        const { method, path, options } = requestOf(row, who, row.prepare ? await row.prepare(who) : {});
        const res = await callRoute<any>(row.handler, method, path, options);
        got[who] = res.status;
        if (res.status !== row.expect[who]) surprises.push(`${who}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
        if (res.status >= 400) {
          // Every refusal is the one error body, with a sentence to show.
          expect(res.body?.error?.message, `${who}: ${JSON.stringify(res.body)}`).toMatch(/\w+/);
        } else if (res.status === row.expect[who]) {
          row.check?.(res.body, who);
        }
      }
      expect(got, surprises.join("\n")).toEqual(row.expect);
    });
  }
});
