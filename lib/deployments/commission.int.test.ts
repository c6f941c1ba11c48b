// Commissioning against a real PostgreSQL (docs/commissioning.md): a new machine's first boot
// creates its commissioning run and is answered with it (uncached and from the boot server's
// memory), the agent's report becomes the host's facts and version 1, an admin's second
// commission records version 2 with what changed, and the refusals.
import { afterAll, describe, expect, it } from "vitest";
import { findHostByMac, insertDiscoveredHost, listHostDeployments } from "@/db/queries/boot";
import { getDeploymentRow, listSteps } from "@/db/queries/deployments";
import { getHostRow } from "@/db/queries/hosts";
import { listHostFactVersions } from "@/db/queries/host-facts";
import { actorOf } from "@/lib/access/actor";
import { searchAudit } from "@/lib/audit/audit";
import { answerBootRequest } from "@/lib/boot/boot-service";
import { deploymentToken } from "@/lib/deployments/deployment-token";
import { BootAnswers } from "@/lib/boot-server/answers";
import { reportFinished, reportInventory } from "@/lib/deployments/agent";
import { serveAgentEnv } from "@/lib/deployments/agent-instructions";
import { commissionHost } from "@/lib/deployments/commission";
import { listFactVersionViews } from "@/lib/hosts/fact-versions";
import type { HostFacts } from "@/lib/hosts/facts";
import { createHost } from "@/lib/hosts/hosts";
import { createLease } from "@/lib/leases/leases";
import { createPool } from "@/lib/pools/pools";
import { addProjectMember, createProject } from "@/lib/projects/projects";
import { syncBuiltinTemplates } from "@/lib/templates/templates";
import { useTestDb } from "@/test/harness/database";
import { setTestEnv } from "@/test/harness/env";
import { createActiveUser, expectAppError } from "@/test/harness/fixtures";

const t = await useTestDb();
await syncBuiltinTemplates(t.db);

const started: BootAnswers[] = [];
afterAll(async () => {
  for (const a of started) await a.stop();
});

/** What the commissioning agent posts for a QEMU-like machine (boot/agent/inventory.sh, inventory()). */
function inventory(mac: string, over: { memoryMb?: number; disks?: unknown[] } = {}) {
  return {
    cpuCores: 2,
    memoryMb: over.memoryMb ?? 1024,
    cpu: { model: "QEMU Virtual CPU version 2.5+", vendor: "AuthenticAMD", threads: 2, cores: 2, sockets: 1 },
    disks: over.disks ?? [
      { name: "vda", sizeBytes: 8589934592, serial: "kiln-disk-1", model: "", rotational: true },
      { name: "nvme0n1", sizeBytes: 1_000_204_886_016, serial: "S5GXNF0R ", model: "Samsung SSD 980 ", rotational: false },
    ],
    nics: [{ mac, name: "eth0", driver: "virtio_net", speedMbps: 1000, link: true, addresses: ["10.0.2.15/24"] }],
    dmi: { vendor: "QEMU", product: "Standard PC (i440FX + PIIX, 1996)", serial: "", biosVendor: "SeaBIOS" },
    firmware: "bios",
    bmc: null,
  };
}

/** The run's id and token, read from the boot script the machine got. */
async function runOf(mac: string) {
  const host = (await findHostByMac(t.db, mac))!.host;
  const [d] = await listHostDeployments(t.db, host.id, 1);
  if (!d) throw new Error(`no run for ${mac}`);
  return { host, id: d.id, token: deploymentToken(d.id) };
}

describe("commissioning on arrival", () => {
  it("a new MAC's first boot (uncached) is its commissioning run; the agent's report is the host's facts and version 1, and it powers off", async () => {
    const mac = "52:54:00:c0:00:01";
    const answer = await answerBootRequest(t.db, { mac: "52-54-00-C0-00-01", hostnameHint: "rack1-u7", sourceIp: "10.0.2.15" });
    expect(answer.status).toBe(200);
    expect(answer.body).toContain("kiln.action=commission");
    const { host, id, token } = await runOf(mac);
    expect(host.state).toBe("new");
    const d = (await getDeploymentRow(t.db, id))!;
    expect(d).toMatchObject({ action: "commission", origin: "system", state: "running", leaseId: null });
    expect(answer.body).toContain(`kiln.token=${token}`);
    // No power step: the machine is already on its way.
    expect((await listSteps(t.db, [id])).map((s) => [s.name, s.state])).toEqual([["boot", "done"], ["agent", "running"], ["inventory", "pending"]]);

    const env = await serveAgentEnv(t.db, { mac, token });
    expect(env.body).toContain("KILN_ACTION='commission'");
    expect(env.body).toContain("KILN_THEN='poweroff'");

    expect((await reportInventory(t.db, { mac, token, body: inventory(mac) })).status).toBe(200);
    // The facts are the run's purpose: it is done once they are in, and the agent's "done" changes nothing.
    expect((await getDeploymentRow(t.db, id))!.state).toBe("done");
    expect((await reportFinished(t.db, { mac, token, outcome: "done", body: {} })).status).toBe(200);

    const after = (await getHostRow(t.db, host.id))!;
    expect(after.state).toBe("new");
    expect(after.cpuCores).toBe(2);
    expect(after.memoryMb).toBe(1024);
    expect(after.disks).toEqual([
      { name: "vda", sizeBytes: 8589934592, serial: "kiln-disk-1", rotational: true, type: "hdd" },
      { name: "nvme0n1", sizeBytes: 1_000_204_886_016, serial: "S5GXNF0R", model: "Samsung SSD 980", rotational: false, type: "nvme" },
    ]);
    const facts = after.facts as HostFacts;
    expect(facts.cpu).toEqual({ model: "QEMU Virtual CPU version 2.5+", vendor: "AuthenticAMD", threads: 2, cores: 2, sockets: 1 });
    expect(facts.nics).toEqual([{ mac, name: "eth0", driver: "virtio_net", speedMbps: 1000, link: true }]);
    expect(facts.dmi).toEqual({ vendor: "QEMU", product: "Standard PC (i440FX + PIIX, 1996)", biosVendor: "SeaBIOS" });
    expect(facts.firmware).toBe("bios");
    expect(facts.bmc).toBeNull();
    expect(typeof facts.commissionedAt).toBe("string");

    const versions = await listHostFactVersions(t.db, host.id);
    expect(versions.map((v) => [v.version, v.source, v.deploymentId])).toEqual([[1, "commission", id]]);

    // Its next boot is local (the run is done; no second commissioning on its own).
    expect((await answerBootRequest(t.db, { mac, sourceIp: "10.0.2.15" })).body).not.toContain("kiln.action=commission");
  });

  it("an admin's second commission records version 2 and what changed; a late report of the ended run is refused", async () => {
    const mac = "52:54:00:c0:00:02";
    await answerBootRequest(t.db, { mac, sourceIp: "10.0.2.16" });
    const first = await runOf(mac);
    await reportInventory(t.db, { mac, token: first.token, body: inventory(mac) });

    const { user } = await createActiveUser(t.db, { admin: true });
    const admin = actorOf(user, null);
    const view = await commissionHost(t.db, admin, first.host.id);
    expect(view).toMatchObject({ action: "commission", origin: "system", provisioning: "commissioning", canCancel: true, canRetry: false });
    const audit = await searchAudit(t.db, { action: "host.commission", targetId: first.host.id });
    expect(audit.data.map((a) => a.summary)).toEqual([`commissioned ${first.host.name} (deployment ${view.id})`]);
    // Manual power: Kiln cannot switch it on, so its power step asks a person; nothing to switch off after.
    expect(view.steps.map((s) => s.name)).toEqual(["power_on", "boot", "agent", "inventory"]);

    const boot = await answerBootRequest(t.db, { mac, sourceIp: "10.0.2.16" });
    expect(boot.body).toContain(`kiln.token=${deploymentToken(view.id)}`);
    const token = deploymentToken(view.id);
    const swapped = { memoryMb: 2048, disks: [{ name: "vda", sizeBytes: 8589934592, serial: "kiln-disk-1", model: "", rotational: true }, { name: "sdb", sizeBytes: 480_103_981_056, serial: "NEW-SSD", model: "Micron 5300", rotational: false }] };
    expect((await reportInventory(t.db, { mac, token, body: inventory(mac, swapped) })).status).toBe(200);
    // The run ended with its report: a late second one is refused and changes nothing.
    expect((await reportInventory(t.db, { mac, token, body: inventory(mac, { memoryMb: 4096 }) })).status).toBe(409);
    const rows = await listHostFactVersions(t.db, first.host.id);
    expect(rows.map((r) => [r.version, r.deploymentId])).toEqual([[2, view.id], [1, first.id]]);
    expect(rows[0]!.snapshot.memoryMb).toBe(2048);

    const views = await listFactVersionViews(t.db, admin, first.host.id);
    expect(views[1]!.changes).toBeNull();
    expect(views[0]!.changes).toEqual([
      { kind: "changed", what: "memory (MB)", before: "1024", after: "2048" },
      { kind: "removed", what: "disk nvme0n1", before: "nvme0n1, 1000 GB, nvme, Samsung SSD 980, serial S5GXNF0R", after: null },
      { kind: "added", what: "disk sdb", before: null, after: "sdb, 480 GB, ssd, Micron 5300, serial NEW-SSD" },
    ]);
    expect((await getDeploymentRow(t.db, view.id))!.state).toBe("done");
  });

  it("a machine recorded without its run (a crash in between) is commissioned at its next boot; a host registered by an admin never is", async () => {
    const mac = "52:54:00:c0:00:03";
    await insertDiscoveredHost(t.db, { name: "new-525400c00003", mac, hostnameHint: null, sourceIp: "10.0.2.17", at: new Date() });
    expect((await answerBootRequest(t.db, { mac, sourceIp: "10.0.2.17" })).body).toContain("kiln.action=commission");

    const { user } = await createActiveUser(t.db, { admin: true });
    await createHost(t.db, actorOf(user, null), { name: "registered-c0", interfaces: [{ mac: "52:54:00:c0:00:04" }] });
    expect((await answerBootRequest(t.db, { mac: "52:54:00:c0:00:04", sourceIp: "10.0.2.18" })).body).not.toContain("kiln.action=commission");
  });

  it("the boot server answers a new MAC's very first request with its commissioning run, and keeps answering it from memory", async () => {
    const answers = new BootAnswers({ db: t.db, databaseUrl: t.url });
    await answers.start();
    started.push(answers);
    const mac = "52:54:00:c0:00:05";
    const first = await answers.answer({ mac: "52-54-00-c0-00-05", sourceIp: "10.0.2.19", hostnameHint: null });
    expect(first.body).toContain("kiln.action=commission");
    const { id } = await runOf(mac);
    expect(first.body).toContain(`kiln.token=${deploymentToken(id)}`);
    expect((await getDeploymentRow(t.db, id))!.state).toBe("running");
    let again = answers.answer({ mac, sourceIp: "10.0.2.19", hostnameHint: null });
    for (let i = 0; i < 50 && again instanceof Promise; i++) {
      await new Promise((r) => setTimeout(r, 50));
      again = answers.answer({ mac, sourceIp: "10.0.2.19", hostnameHint: null });
    }
    expect(again).not.toBeInstanceOf(Promise);
    expect((again as { body: string }).body).toBe(first.body);
  });

  it("off (KILN_COMMISSION_ON_DISCOVERY=false): a first boot is recorded and answered local boot, as before", async () => {
    setTestEnv({ KILN_COMMISSION_ON_DISCOVERY: "false" });
    const mac = "52:54:00:c0:00:06";
    expect((await answerBootRequest(t.db, { mac, sourceIp: "10.0.2.20" })).body).not.toContain("kiln.action=commission");
    expect((await findHostByMac(t.db, mac))?.host.state).toBe("new");
  });

  it("refusals: a researcher (403), a held host (409), no such host (404); nothing is started", async () => {
    const { user: adminUser } = await createActiveUser(t.db, { admin: true });
    const { user: rita } = await createActiveUser(t.db, { name: "Rita" });
    const admin = actorOf(adminUser, null);
    const pool = await createPool(t.db, admin, { name: "commission-pool" });
    const host = await createHost(t.db, admin, { name: "held-c0", poolId: pool.id, interfaces: [{ mac: "52:54:00:c0:00:07" }] });
    await expectAppError(commissionHost(t.db, actorOf(rita, null), host.id), "forbidden");
    const project = await createProject(t.db, admin, { name: "commission-proj" });
    await addProjectMember(t.db, admin, project.id, { email: rita.email });
    await createLease(t.db, admin, { hostIds: [host.id], userId: rita.id, projectId: project.id });
    await expectAppError(commissionHost(t.db, admin, host.id), "conflict", /leased/);
    await expectAppError(commissionHost(t.db, admin, "00000000-0000-4000-8000-000000000000"), "not_found");
    expect(await listHostFactVersions(t.db, host.id)).toEqual([]);
  });
});
