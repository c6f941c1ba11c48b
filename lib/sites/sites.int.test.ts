// Sites and boot servers: the boot server's calls (ensureSite, heartbeat), the admin's
// (sites CRUD, moving hosts), and what machines are told (the site's boot URL, else KILN_BOOT_URL).
import { describe, expect, it } from "vitest";
import { insertDiscoveredHost } from "@/db/queries/boot";
import { getHostRow } from "@/db/queries/hosts";
import { DEFAULT_SITE_ID } from "@/db/schema";
import { actorOf } from "@/lib/access/actor";
import { searchAudit } from "@/lib/audit/audit";
import { getEnv } from "@/lib/env";
import { answerBootRequest, serveDeploymentFile } from "@/lib/boot/boot-service";
import { markForReinstall, updateBootSettings } from "@/lib/boot/boot-settings";
import { deploymentToken } from "@/lib/deployments/deployment-token";
import { createHost, updateHost } from "@/lib/hosts/hosts";
import { createLease } from "@/lib/leases/leases";
import { addProjectMember, createProject } from "@/lib/projects/projects";
import { listTemplates, syncBuiltinTemplates } from "@/lib/templates/templates";
import { useTestDb } from "@/test/harness/database";
import { createActiveUser, expectAppError } from "@/test/harness/fixtures";
import { seedHosts, uniqueSuffix } from "@/test/harness/inventory";
import {
  bootUrlOfHost,
  createSite,
  deleteBootServer,
  deleteSite,
  ensureSite,
  listBootServers,
  listSites,
  recordBootServerHeartbeat,
  recordBootServerStopped,
  setHostSite,
  siteBootUrlOf,
  updateSite,
  type BootServerHeartbeat,
} from "./sites";

const t = await useTestDb();
const T0 = new Date("2026-12-02T10:00:00Z");
const at = (seconds: number) => ({ now: new Date(T0.getTime() + seconds * 1000) });

async function admin() {
  const { user } = await createActiveUser(t.db, { admin: true });
  return actorOf(user, { ip: "198.51.100.20", userAgent: "vitest" });
}

function beat(name: string, siteId: string, over: Partial<BootServerHeartbeat> = {}): BootServerHeartbeat {
  return {
    name, siteId, url: "http://10.2.0.5:8081", version: "0.1.0", pid: 4242, startedAt: T0,
    intervalSeconds: 10, requests: 500, errors: 2, answeredFromMemory: 450, p99Ms: 3.5, totalRequests: 500, totalErrors: 2,
    ...over,
  };
}

describe("sites", () => {
  it("has a default site every host belongs to unless moved", async () => {
    const [host] = await seedHosts(t.db, { count: 1 });
    expect(host!.siteId).toBe(DEFAULT_SITE_ID);
    const sites = await listSites(t.db, await admin());
    expect(sites.find((s) => s.id === DEFAULT_SITE_ID)).toMatchObject({ name: "default", bootUrl: null, isDefault: true });
  });

  it("ensureSite creates a site once and leaves it alone after", async () => {
    const name = `lab-${uniqueSuffix()}`;
    const first = await ensureSite(t.db, name, { bootUrl: "http://10.3.0.5:8081/" });
    expect(first.bootUrl).toBe("http://10.3.0.5:8081");
    const A = await admin();
    await updateSite(t.db, A, first.id, { bootUrl: "http://boot.lab-b.example:8081" });
    // A restart of the boot server with another URL does not overwrite the admin's choice.
    const again = await ensureSite(t.db, name, { bootUrl: "http://10.9.9.9:1" });
    expect(again).toMatchObject({ id: first.id, bootUrl: "http://boot.lab-b.example:8081" });
    await Promise.all([ensureSite(t.db, `${name}-x`), ensureSite(t.db, `${name}-x`), ensureSite(t.db, `${name}-x`)]);
    expect((await listSites(t.db, A)).filter((s) => s.name === `${name}-x`)).toHaveLength(1);
    await expectAppError(ensureSite(t.db, "no spaces please"), "validation");
  });

  it("creates, renames and sets boot URLs with audit entries; refuses bad input with field errors", async () => {
    const A = await admin();
    const s = uniqueSuffix();
    const site = await createSite(t.db, A, { name: `b-${s}`, bootUrl: "http://10.4.0.5:8081", description: "building B" });
    expect(site).toMatchObject({ name: `b-${s}`, bootUrl: "http://10.4.0.5:8081", hostCount: 0, isDefault: false });
    await expectAppError(createSite(t.db, A, { name: `b-${s}` }), "validation");
    await expectAppError(createSite(t.db, A, { name: `c-${s}`, bootUrl: "ftp://x" }), "validation");
    await expectAppError(createSite(t.db, A, { name: `c-${s}`, bootUrl: "http://u:p@x" }), "validation");
    await expectAppError(createSite(t.db, A, { name: `c-${s}`, bootUrl: "http://x/?a=1" }), "validation");
    const renamed = await updateSite(t.db, A, site.id, { name: `bb-${s}`, bootUrl: "" });
    expect(renamed).toMatchObject({ name: `bb-${s}`, bootUrl: null });
    const { data } = await searchAudit(t.db, { targetType: "site", targetId: site.id });
    expect(data.map((r) => r.action)).toEqual(["site.update", "site.create"]);
    expect(data[0]!.summary).toContain(`(was b-${s})`);
    const { user: ann } = await createActiveUser(t.db);
    await expectAppError(createSite(t.db, actorOf(ann, null), { name: `d-${s}` }), "forbidden");
    await expectAppError(listSites(t.db, actorOf(ann, null)), "forbidden");
  });

  it("deletes a site only when it has no hosts and no live boot server; never the default", async () => {
    const A = await admin();
    const site = await createSite(t.db, A, { name: `del-${uniqueSuffix()}` });
    const [host] = await seedHosts(t.db, { count: 1 });
    await setHostSite(t.db, A, host!.id, site.id);
    await expectAppError(deleteSite(t.db, A, site.id), "conflict");
    await setHostSite(t.db, A, host!.id, DEFAULT_SITE_ID);
    await recordBootServerHeartbeat(t.db, beat(`del-${uniqueSuffix()}:8081`, site.id), at(0));
    await expectAppError(deleteSite(t.db, A, site.id, at(60)), "conflict");
    // Down for more than two minutes: the site may go, and its boot server's row with it.
    await deleteSite(t.db, A, site.id, at(200));
    expect((await listSites(t.db, A)).some((x) => x.id === site.id)).toBe(false);
    await expectAppError(deleteSite(t.db, A, DEFAULT_SITE_ID), "conflict");
    await expectAppError(deleteSite(t.db, A, site.id), "not_found");
  });

  it("moves a host to a site, audited, through setHostSite and through the host update", async () => {
    const A = await admin();
    const site = await createSite(t.db, A, { name: `mv-${uniqueSuffix()}` });
    const [h1, h2] = await seedHosts(t.db, { count: 2 });
    await setHostSite(t.db, A, h1!.id, site.id);
    const view = await updateHost(t.db, A, h2!.id, { siteId: site.id });
    expect(view.siteId).toBe(site.id);
    expect((await getHostRow(t.db, h1!.id))!.siteId).toBe(site.id);
    for (const h of [h1!, h2!]) {
      const { data } = await searchAudit(t.db, { targetType: "host", targetId: h.id });
      // One entry per move; the host update adds no second one for the site alone.
      expect(data.map((r) => [r.action, r.summary, r.actorIp])).toEqual([["host.site", `moved host ${h.name} from site default to site ${site.name}`, "198.51.100.20"]]);
    }
    await expectAppError(setHostSite(t.db, A, h1!.id, "00000000-0000-4000-8000-0000000000ff"), "validation");
    const { user: ann } = await createActiveUser(t.db);
    await expectAppError(setHostSite(t.db, actorOf(ann, null), h1!.id, DEFAULT_SITE_ID), "forbidden");
    expect((await listSites(t.db, A)).find((s) => s.id === site.id)!.hostCount).toBe(2);
  });

  it("tells a host's machine its site's boot URL, else KILN_BOOT_URL", async () => {
    const A = await admin();
    const site = await createSite(t.db, A, { name: `url-${uniqueSuffix()}`, bootUrl: "http://10.5.0.5:8081" });
    const [host] = await seedHosts(t.db, { count: 1 });
    expect(await bootUrlOfHost(t.db, host!.id)).toBeNull();
    expect(await siteBootUrlOf(t.db, host!)).toBe(getEnv().bootUrl);
    await setHostSite(t.db, A, host!.id, site.id);
    const moved = (await getHostRow(t.db, host!.id))!;
    expect(await bootUrlOfHost(t.db, host!.id)).toBe("http://10.5.0.5:8081");
    expect(await siteBootUrlOf(t.db, moved)).toBe("http://10.5.0.5:8081");
    await updateSite(t.db, A, site.id, { bootUrl: null });
    expect(await siteBootUrlOf(t.db, moved)).toBe(getEnv().bootUrl);
  });

  it("renders a marked host's boot script and install answers with its site's boot URL", async () => {
    const A = await admin();
    const { user: rita } = await createActiveUser(t.db);
    const R = actorOf(rita, null);
    const SITE_URL = "http://10.7.0.5:3001";
    const site = await createSite(t.db, A, { name: `render-${uniqueSuffix()}`, bootUrl: SITE_URL });
    const mac = `52:54:c0:${uniqueSuffix().match(/../g)!.join(":")}`;
    const host = await createHost(t.db, A, { name: `r-${uniqueSuffix()}`, interfaces: [{ mac }] });
    await setHostSite(t.db, A, host.id, site.id);
    const project = await createProject(t.db, A, { name: `r-${uniqueSuffix()}` });
    await addProjectMember(t.db, A, project.id, { userId: rita.id });
    await createLease(t.db, A, { hostIds: [host.id], userId: rita.id, projectId: project.id });
    await syncBuiltinTemplates(t.db);
    const all = await listTemplates(t.db, R);
    await updateBootSettings(t.db, R, host.id, {
      systemTemplateId: all.find((x) => x.builtinKey === "debian-12-netinstall")!.id,
      unattendedTemplateId: all.find((x) => x.builtinKey === "debian-12-preseed")!.id,
    });
    const { deploymentId } = await markForReinstall(t.db, R, host.id);
    const token = deploymentToken(deploymentId);
    const dashed = mac.replace(/:/g, "-");

    const boot = await answerBootRequest(t.db, { mac, sourceIp: "10.7.0.50" });
    expect(boot.body).toContain(`preseed/url=${SITE_URL}/boot/${dashed}/${token}/unattended`);
    expect(boot.body).not.toContain(getEnv().bootUrl);
    const preseed = await serveDeploymentFile(t.db, { mac, token, file: "unattended" });
    expect(preseed.status).toBe(200);
    expect(preseed.body).toContain(`${SITE_URL}/boot/${dashed}/${token}/`);
    expect(preseed.body).not.toContain(getEnv().bootUrl);
  });

  it("puts a machine first seen by a boot server of a site in that site", async () => {
    const site = await ensureSite(t.db, `disc-${uniqueSuffix()}`);
    const mac = `52:54:be:${uniqueSuffix().match(/../g)!.join(":")}`;
    const host = await insertDiscoveredHost(t.db, { name: `new-${mac.replace(/:/g, "")}`, mac, hostnameHint: null, sourceIp: "10.6.0.9", at: T0, siteId: site.id });
    expect(host!.siteId).toBe(site.id);
    const mac2 = `52:54:bf:${uniqueSuffix().match(/../g)!.join(":")}`;
    const other = await insertDiscoveredHost(t.db, { name: `new-${mac2.replace(/:/g, "")}`, mac: mac2, hostnameHint: null, sourceIp: "10.6.0.9", at: T0 });
    expect(other!.siteId).toBe(DEFAULT_SITE_ID);
  });
});

describe("boot servers", () => {
  it("upserts one row per name from heartbeats and derives up / late / down / stopped from the clock", async () => {
    const A = await admin();
    const site = await ensureSite(t.db, `hb-${uniqueSuffix()}`);
    const name = `boot-${uniqueSuffix()}:8081`;
    const mine = async (clock: { now: Date }) => (await listBootServers(t.db, A, clock)).filter((b) => b.name === name);

    await recordBootServerHeartbeat(t.db, beat(name, site.id), at(0));
    let [b] = await mine(at(5));
    expect(b).toMatchObject({ siteName: site.name, status: "up", secondsSinceHeartbeat: 5, requestsPerSecond: 50, intervalErrors: 2, memoryRatio: 0.9, p99Ms: 3.5, pid: 4242 });

    await recordBootServerHeartbeat(t.db, beat(name, site.id, { requests: 0, errors: 0, answeredFromMemory: 0, p99Ms: null, totalRequests: 500, totalErrors: 2, dbReachable: false }), at(10));
    const rows = await mine(at(10));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: "up", requestsPerSecond: 0, memoryRatio: null, p99Ms: null, totalRequests: 500, dbReachable: false });
    expect((await mine(at(10 + 31)))[0]!.status).toBe("late");
    expect((await mine(at(10 + 121)))[0]!.status).toBe("down");

    // A still-running boot server is not forgotten; a stopped one is.
    await expectAppError(deleteBootServer(t.db, A, rows[0]!.id, at(12)), "conflict");
    await recordBootServerStopped(t.db, name, at(15));
    [b] = await mine(at(16));
    expect(b!.status).toBe("stopped");
    // It comes back: the next heartbeat clears the stop.
    await recordBootServerHeartbeat(t.db, beat(name, site.id, { startedAt: at(20).now }), at(20));
    [b] = await mine(at(21));
    expect(b).toMatchObject({ status: "up", stoppedAt: null, startedAt: at(20).now.toISOString() });
    await recordBootServerStopped(t.db, name, at(25));
    await deleteBootServer(t.db, A, b!.id, at(26));
    expect(await mine(at(27))).toEqual([]);
    const { data } = await searchAudit(t.db, { action: "boot_server" });
    expect(data.some((r) => r.targetId === b!.id && r.summary.includes(name))).toBe(true);
  });

  it("times a heartbeat by the database clock when none is given, and zeroes counts that are not counts", async () => {
    const A = await admin();
    const site = await ensureSite(t.db, `clk-${uniqueSuffix()}`);
    const name = `boot-${uniqueSuffix()}:8082`;
    await recordBootServerHeartbeat(t.db, beat(name, site.id, { requests: Number.NaN, errors: -5, intervalSeconds: 0 }));
    const [b] = (await listBootServers(t.db, A)).filter((x) => x.name === name);
    expect(b).toMatchObject({ status: "up", intervalRequests: 0, intervalErrors: 0, requestsPerSecond: 0, memoryRatio: null });
    expect(b!.secondsSinceHeartbeat).toBeLessThan(5);
  });
});
