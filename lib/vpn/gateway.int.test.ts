// The gateway's side of the VPN against a real PostgreSQL: who is in the rendered files, the
// token, ETags, the worker's directory — and a real WireGuard tunnel: wireguard-go in network
// namespaces this test creates (client, gateway, machines; 10.77.x.x inside them only), the
// gateway configured from what the route handlers serve, the client from renderClientConfig's
// file, nftables loaded from the rendered rules. A ping through the tunnel reaches the machine
// the person holds, not another, and not the held one either once the lease has ended.
import { callRoute, inRequestScope } from "@/test/harness/route-handler";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { upsertHostAddresses } from "@/db/queries/addresses";
import { updateLeaseRow } from "@/db/queries/leases";
import { updateUser } from "@/db/queries/users";
import { insertVpnDevice, revokeVpnDeviceRow } from "@/db/queries/vpn";
import { getEnv } from "@/lib/env";
import { stopJobSender } from "@/lib/jobs/enqueue";
import { createLease, releaseLease } from "@/lib/leases/leases";
import { useTestDb } from "@/test/harness/database";
import { setTestEnv, setTestEnvDefaults } from "@/test/harness/env";
import { seedLeaseWorld, type LeaseWorld } from "@/test/harness/inventory";
import { LAB_MACHINES_NET, LAB_UNDERLAY, LAB_WG_PORT, startWireguardLab, wireguardLabSkipReason, type WireguardLab } from "@/test/harness/wireguard-lab";
import * as peersRoute from "@/app/api/v1/vpn/gateway/wireguard.conf/route";
import * as rulesRoute from "@/app/api/v1/vpn/gateway/nftables.conf/route";
import { GATEWAY_PEERS_FILE, GATEWAY_RULES_FILE, listGatewayState, syncGatewayDir } from "./gateway";
import { generateKeyPair, renderClientConfig } from "./wireguard";

const t = await useTestDb();
afterAll(() => stopJobSender());

const TOKEN = `gw-${randomBytes(16).toString("hex")}`;
const GATEWAY_KEYS = generateKeyPair();
const VPN = { range: "10.77.250.0/24", gateway: "10.77.250.1" };
const MACHINES = { net: LAB_MACHINES_NET.cidr, held: "10.77.1.10", other: "10.77.1.11" };
setTestEnvDefaults({
  KILN_VPN_ENDPOINT: `${LAB_UNDERLAY.gateway}:${LAB_WG_PORT}`,
  KILN_VPN_SERVER_PUBLIC_KEY: GATEWAY_KEYS.publicKey,
  KILN_VPN_ADDRESS_RANGE: VPN.range,
  KILN_VPN_ALLOWED_IPS: MACHINES.net,
  KILN_VPN_FOLLOW_LEASES: "true",
  KILN_VPN_GATEWAY_TOKEN: TOKEN,
});

async function addDevice(userId: string, address: string, name = "laptop") {
  const keys = generateKeyPair();
  const row = await insertVpnDevice(t.db, { userId, name, publicKey: keys.publicKey, address, keyOrigin: "server" });
  return { ...row, privateKey: keys.privateKey };
}

async function addAddresses(hostId: string, rows: { address: string; source?: "boot" | "agent" | "installed"; seenAt?: Date }[]) {
  await upsertHostAddresses(t.db, {
    rows: rows.map((r) => ({ hostId, address: r.address, source: r.source ?? "installed", mac: null, seenAt: r.seenAt ?? new Date() })),
    keep: 6,
  });
}

function lease(w: LeaseWorld, hostId: string, userId: string) {
  return createLease(t.db, w.adminActor, { hostIds: [hostId], userId, projectId: w.projects[0]!.id });
}

/** With the gateway's token unless another (or null: none) is given. */
const get = (handler: typeof peersRoute.GET, file: string, headers: Record<string, string> = {}, token: string | null = TOKEN) =>
  callRoute<string>(handler, "GET", `/api/v1/vpn/gateway/${file}`, { token: token ?? undefined, headers });

describe("gateway state", () => {
  it("holds the devices of active accounts, with the newest addresses of the hosts their owners hold now", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 3, membersPerProject: 4 });
    const [alice, bob, carol, dave] = w.members[0]!;
    const [h1, h2, h3] = w.hosts;
    const aliceLaptop = await addDevice(alice!.id, "10.77.250.21");
    const revoked = await addDevice(alice!.id, "10.77.250.22", "old phone");
    await revokeVpnDeviceRow(t.db, { id: revoked.id, revokedBy: null, at: new Date() });
    const bobPhone = await addDevice(bob!.id, "10.77.250.20", "phone");
    const carolDevice = await addDevice(carol!.id, "10.77.250.23");
    await updateUser(t.db, carol!.id, { disabledAt: new Date() });
    const daveDevice = await addDevice(dave!.id, "10.77.250.24");
    await updateUser(t.db, dave!.id, { approvedAt: null });

    const hour = 3600_000;
    await addAddresses(h1!.id, [
      { address: "10.77.1.50", seenAt: new Date(Date.now() - 2 * hour) }, // where it was before the newest report
      { address: "10.77.1.51" },
      { address: "10.77.1.52", source: "boot" },
    ]);
    await addAddresses(h2!.id, [{ address: "10.77.1.60" }]);
    await addAddresses(h3!.id, [{ address: "10.77.1.70" }]);
    await lease(w, h1!.id, alice!.id);
    const bobLease = await lease(w, h2!.id, bob!.id);

    const state = await listGatewayState(t.db);
    const ours = new Set([aliceLaptop.id, revoked.id, bobPhone.id, carolDevice.id, daveDevice.id]);
    const mine = state.filter((d) => ours.has(d.deviceId));
    expect(mine.map((d) => [d.deviceId, d.held.map((h) => h.address).sort()])).toEqual([
      [bobPhone.id, ["10.77.1.60"]],
      [aliceLaptop.id, ["10.77.1.51", "10.77.1.52"]],
    ]);

    // A lease in its grace period (the end has come; only capture or release is left) gives no access.
    await updateLeaseRow(t.db, bobLease.id, { endStage: "grace" });
    expect((await listGatewayState(t.db)).find((d) => d.deviceId === bobPhone.id)!.held).toEqual([]);
    await updateLeaseRow(t.db, bobLease.id, { endStage: "warned" });
    expect((await listGatewayState(t.db)).find((d) => d.deviceId === bobPhone.id)!.held).toHaveLength(1);
    await releaseLease(t.db, w.adminActor, bobLease.id);
    expect((await listGatewayState(t.db)).find((d) => d.deviceId === bobPhone.id)!.held).toEqual([]);
  });
});

describe("the gateway's routes", () => {
  it("answer 404 until WireGuard and the token are configured, then 401 without the token", async () => {
    setTestEnv({ KILN_VPN_ENDPOINT: undefined, KILN_VPN_SERVER_PUBLIC_KEY: undefined });
    expect((await get(peersRoute.GET, "wireguard.conf")).status).toBe(404);
    setTestEnv({ KILN_VPN_GATEWAY_TOKEN: undefined });
    const unset = await get(rulesRoute.GET, "nftables.conf");
    expect(unset.status).toBe(404);
    expect(JSON.stringify(unset.body)).toMatch(/KILN_VPN_GATEWAY_TOKEN/);
    setTestEnv();
    expect((await get(peersRoute.GET, "wireguard.conf", {}, null)).status).toBe(401);
    expect((await get(peersRoute.GET, "wireguard.conf", {}, `${TOKEN}x`)).status).toBe(401);
  });

  it("serve text with an ETag, 304 while nothing changed, new bytes when a device comes", async () => {
    const first = await get(peersRoute.GET, "wireguard.conf");
    expect(first.status).toBe(200);
    expect(first.headers.get("content-type")).toMatch(/^text\/plain/);
    const etag = first.headers.get("etag")!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect((await get(peersRoute.GET, "wireguard.conf", { "if-none-match": etag })).status).toBe(304);

    const w = await seedLeaseWorld(t.db, { hosts: 1 });
    const device = await addDevice(w.members[0]![0]!.id, "10.77.250.30");
    const after = await get(peersRoute.GET, "wireguard.conf", { "if-none-match": etag });
    expect(after.status).toBe(200);
    expect(after.headers.get("etag")).not.toBe(etag);
    expect(after.body).toContain(`PublicKey = ${device.publicKey}\nAllowedIPs = 10.77.250.30/32`);
    const rules = await get(rulesRoute.GET, "nftables.conf");
    expect(rules.body).toMatch(/^\t\t# .* — laptop: holds no machine$/m);
  });
});

describe("the worker's directory", () => {
  it("writes both files, and again only what changed", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-vpn-gw-"));
    try {
      setTestEnv({ KILN_VPN_GATEWAY_DIR: dir });
      expect(await syncGatewayDir(t.db)).toEqual({ written: [GATEWAY_PEERS_FILE, GATEWAY_RULES_FILE] });
      expect(await syncGatewayDir(t.db)).toEqual({ written: [] });
      const w = await seedLeaseWorld(t.db, { hosts: 1 });
      await addDevice(w.members[0]![0]!.id, "10.77.250.31");
      expect(await syncGatewayDir(t.db)).toEqual({ written: [GATEWAY_PEERS_FILE, GATEWAY_RULES_FILE] });
      await addAddresses(w.hosts[0]!.id, [{ address: "10.77.1.80" }]);
      await lease(w, w.hosts[0]!.id, w.members[0]![0]!.id);
      expect(await syncGatewayDir(t.db)).toEqual({ written: [GATEWAY_RULES_FILE] });
      expect(await fs.readFile(path.join(dir, GATEWAY_RULES_FILE), "utf8")).toMatch(/ip saddr 10\.77\.250\.31 ip daddr 10\.77\.1\.80 accept/);
      expect((await fs.readdir(dir)).sort()).toEqual([GATEWAY_RULES_FILE, GATEWAY_PEERS_FILE].sort());
      setTestEnv({ KILN_VPN_GATEWAY_DIR: undefined });
      expect(await syncGatewayDir(t.db)).toBeNull();
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

// ---- The real tunnel ----

const skipReason = wireguardLabSkipReason();
if (skipReason) console.warn(`[lib/vpn/gateway.int.test.ts] skipping the real WireGuard handshake: ${skipReason}`);

let lab: WireguardLab | undefined;
let kilnUrl = "";
let server: http.Server | undefined;

/** The two gateway routes over real HTTP on 127.0.0.1, for curl in the sync script. */
async function serveGatewayRoutes(): Promise<void> {
  const handlers: Record<string, typeof peersRoute.GET> = {
    "/api/v1/vpn/gateway/wireguard.conf": peersRoute.GET,
    "/api/v1/vpn/gateway/nftables.conf": rulesRoute.GET,
  };
  server = http.createServer((req, res) => {
    const handler = handlers[req.url ?? ""];
    if (!handler) return void res.writeHead(404).end();
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
    const request = new Request(`http://kiln.test${req.url}`, { headers });
    inRequestScope(request, () => handler(request, { params: Promise.resolve({}) } as never))
      .then(async (answer) => {
        res.writeHead(answer.status, Object.fromEntries(answer.headers));
        res.end(Buffer.from(await answer.arrayBuffer()));
      })
      .catch((e: unknown) => res.writeHead(500).end(String(e)));
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  kilnUrl = `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
}

/**
 * scripts/vpn-gateway-sync.sh as the gateway runs it, its wg and nft inside the gateway's
 * namespace. Asynchronous: the HTTP answers come from this very process.
 */
const runSync = (args: string[] = [], stateName = "state", token = TOKEN) =>
  lab!.runSync({ kilnUrl, token, gatewayPrivateKey: GATEWAY_KEYS.privateKey, args, stateName });
const dropCount = () => lab!.dropCount(VPN.range);
const canPing = (address: string, count?: number) => lab!.canPing(address, count);

describe.skipIf(skipReason !== null)("a real WireGuard tunnel through the rendered gateway", () => {
  beforeAll(async () => {
    lab = await startWireguardLab({ gatewayTunnelCidr: `${VPN.gateway}/24`, machines: [MACHINES.held, MACHINES.other] });
    await serveGatewayRoutes();
  }, 30_000);

  afterAll(async () => {
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    await lab?.stop();
  });

  it("carries the person to the machine they hold, not to another, and nowhere once the lease ended", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 2, membersPerProject: 2 });
    const [person, neighbour] = w.members[0]!;
    const [heldHost, otherHost] = w.hosts;
    await addAddresses(heldHost!.id, [{ address: MACHINES.held }]);
    await addAddresses(otherHost!.id, [{ address: MACHINES.other }]);
    const personLease = await lease(w, heldHost!.id, person!.id);
    // The other machine is held too, by someone else with a device of their own.
    await lease(w, otherHost!.id, neighbour!.id);
    await addDevice(neighbour!.id, "10.77.250.3", "desktop");
    const device = await addDevice(person!.id, "10.77.250.2");

    // The gateway, from what Kiln serves it, applied by the gateway's own sync script.
    expect(await runSync()).toBe("vpn-gateway-sync: applied peers,rules");
    const { ns, ifs, inNs } = lab!;
    expect(inNs(ns.gateway, "wg", "show", ifs.gatewayWg, "peers")).toContain(device.publicKey);
    expect(await runSync()).toBe(""); // both 304

    // The client, from its downloaded file, as wg-quick would: wg's part to `wg setconf`,
    // Address and the AllowedIPs routes by hand.
    const env = getEnv();
    const clientConf = renderClientConfig({
      privateKey: device.privateKey,
      address: device.address,
      serverPublicKey: env.KILN_VPN_SERVER_PUBLIC_KEY!,
      endpoint: env.KILN_VPN_ENDPOINT!,
      allowedIps: env.KILN_VPN_ALLOWED_IPS.split(",").map((s) => s.trim()),
    });
    await lab!.configureClient(clientConf);

    // The held machine answers through the tunnel, after a real handshake.
    expect(canPing(MACHINES.held, 3)).toBe(true);
    const handshake = lab!.latestHandshake();
    expect(handshake).toBeGreaterThan(0);
    expect(Math.abs(handshake - Date.now() / 1000)).toBeLessThan(60);

    // The other machine is refused by the gateway's rules (its drop counter says so), not lost.
    const droppedBefore = dropCount();
    expect(canPing(MACHINES.other)).toBe(false);
    expect(dropCount()).toBeGreaterThan(droppedBefore);
    // A table flushed by hand on the gateway is put back by the next run, though Kiln answers 304.
    inNs(ns.gateway, "nft", "delete", "table", "inet", "kiln_vpn");
    expect(await runSync()).toBe("vpn-gateway-sync: applied rules (again: the table was gone)");

    // A session open through the lease's end: one ping flow (one ICMP id, "established" to conntrack).
    const flow = lab!.track(spawn("ip", ["netns", "exec", ns.client, "ping", "-n", "-i", "0.2", MACHINES.held], { stdio: ["ignore", "pipe", "ignore"] }));
    let replies = 0;
    flow.stdout!.on("data", (d: Buffer) => (replies += (d.toString().match(/bytes from/g) ?? []).length));
    const flowing = Date.now();
    while (replies < 3 && Date.now() - flowing < 5000) await new Promise((r) => setTimeout(r, 100));
    expect(replies).toBeGreaterThanOrEqual(3);

    // The lease ends: the next sync takes the held machine away too (only the rules changed).
    await releaseLease(t.db, w.adminActor, personLease.id);
    expect(await runSync()).toBe("vpn-gateway-sync: applied rules");
    // The open flow stops with the lease, not when it closes.
    await new Promise((r) => setTimeout(r, 300));
    const repliesAtEnd = replies;
    await new Promise((r) => setTimeout(r, 1200));
    expect(replies).toBe(repliesAtEnd);
    flow.kill("SIGTERM");
    expect(inNs(ns.gateway, "nft", "list", "table", "inet", "kiln_vpn")).not.toContain(MACHINES.held);
    const droppedAfterRelease = dropCount();
    expect(canPing(MACHINES.held)).toBe(false);
    expect(dropCount()).toBeGreaterThan(droppedAfterRelease);
    // Refused by the rules, not by a torn-down tunnel: the device is still the gateway's peer.
    expect(inNs(ns.gateway, "wg", "show", ifs.gatewayWg, "peers")).toContain(device.publicKey);

    // The same gateway fed from KILN_VPN_GATEWAY_DIR (the worker's files) instead of HTTP.
    const dir = path.join(lab!.workDir, "gateway-dir");
    setTestEnv({ KILN_VPN_GATEWAY_DIR: dir });
    await syncGatewayDir(t.db);
    expect(await runSync(["--from-dir", dir], "dir-state")).toBe("vpn-gateway-sync: applied peers,rules");
    expect(await runSync(["--from-dir", dir], "dir-state")).toBe("");
    expect(canPing(MACHINES.held)).toBe(false);

    // A refusal is a non-zero exit with the server's message, and the rules stay.
    await expect(runSync([], "fresh-state", "not-the-gateway-token")).rejects.toThrow(/wireguard\.conf answered 401: .*not the gateway token/);
    await expect(runSync(["--from-dir", path.join(lab!.workDir, "nowhere")], "dir-state")).rejects.toThrow(/cannot read .*nowhere/);
    expect(inNs(ns.gateway, "nft", "list", "table", "inet", "kiln_vpn")).toContain("anything else from the VPN");
  }, 30_000);
});
