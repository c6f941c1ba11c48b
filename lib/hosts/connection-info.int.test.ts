// The addresses Kiln learns, end to end against PostgreSQL and the machine routes over HTTP:
// the boot request's source (the boot server's batched writes and the uncached path), the
// deploy agent's inventory, an installer's "done" with `ip -o link; ip -o addr`; and the host
// view (page and API) with the ssh line and the deploy status, for the holder and admins only.
import { seedReadyImage, startProvisioningSetup, type ProvisioningSetup } from "@/test/harness/provisioning";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listAddressesOfHosts } from "@/db/queries/addresses";
import { getTemplateByBuiltinKey } from "@/db/queries/templates";
import { BootWrites } from "@/lib/boot-server/writes";
import { startDeployment } from "@/lib/deployments/start";
import { runWorkerSteps } from "@/lib/deployments/worker";
import { stopJobSender } from "@/lib/jobs/enqueue";
import { useTestDb } from "@/test/harness/database";
import { setTestEnvDefaults } from "@/test/harness/env";
import { expectAppError } from "@/test/harness/fixtures";
import { ADDRESSES_KEPT_PER_SOURCE, recordHostAddresses } from "./addresses";
import { getHostDetail, listHosts } from "./hosts";

const t = await useTestDb();
const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-access-"));
setTestEnvDefaults({ KILN_DATA_DIR: dataDir });

let setup: ProvisioningSetup;
beforeAll(async () => {
  setup = await startProvisioningSetup(t.db, { name: "access", macByte: 0xa7 });
});
afterAll(async () => {
  await setup?.close();
  await stopJobSender();
  await fs.rm(dataDir, { recursive: true, force: true });
});

const IP_OUTPUT = (mac: string) =>
  [
    `1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00`,
    `2: ens3: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP mode DEFAULT group default qlen 1000\\    link/ether ${mac} brd ff:ff:ff:ff:ff:ff`,
    `1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever`,
    `2: ens3    inet 192.0.2.50/24 brd 192.0.2.255 scope global dynamic ens3\\       valid_lft 86313sec preferred_lft 86313sec`,
    `2: ens3    inet6 fe80::5054:ff:fe00:1/64 scope link \\       valid_lft forever preferred_lft forever`,
    "",
  ].join("\n");

describe("addresses a machine reports", () => {
  it("an install's done call with `ip -o link; ip -o addr`: the installed address, the ssh user from the answers file, and deployed", async () => {
    const { hostId, mac, machine } = await setup.heldHost();
    const sys = (await getTemplateByBuiltinKey(t.db, "debian-12-netinstall"))!;
    const answers = (await getTemplateByBuiltinKey(t.db, "debian-12-preseed"))!;
    const run = await startDeployment(t.db, setup.holder, hostId, { action: "install", systemTemplateId: sys.id, unattendedTemplateId: answers.id });
    await runWorkerSteps(t.db, run.id, "install", { backoffMs: [] });

    let detail = await getHostDetail(t.db, setup.holder, hostId);
    expect(detail.host.provisioning).toMatchObject({ state: "deploying", runId: run.id, action: "install", runState: "running", finishedAt: null });
    expect(detail.host.addresses).toEqual([]);
    expect(detail.host.access).toBeNull();

    // The boot request (uncached path: the harness's boot server answers from the database).
    await machine.boot();
    detail = await getHostDetail(t.db, setup.holder, hostId);
    expect(detail.host.addresses).toEqual([expect.objectContaining({ address: "127.0.0.1", source: "boot", scope: "loopback", mac })]);
    // Only a loopback relay's address so far: no ssh line (it would reach the reader's own machine).
    expect(detail.host.access).toBeNull();

    const reply = await machine.file("done", "POST", IP_OUTPUT(mac), "text/plain");
    expect(reply.status).toBe(200);
    detail = await getHostDetail(t.db, setup.holder, hostId);
    expect(detail.host.provisioning).toMatchObject({ state: "deployed", runState: "done", runId: run.id });
    expect(detail.host.provisioning.finishedAt).not.toBeNull();
    expect(detail.host.addresses.map((a) => `${a.source} ${a.address} ${a.mac}`).sort()).toEqual([`boot 127.0.0.1 ${mac}`, `installed 192.0.2.50 ${mac}`]);
    expect(detail.host.access).toEqual({ address: "192.0.2.50", addressSource: "installed", user: "kiln", userSource: "installer answers", command: "ssh kiln@192.0.2.50" });

    // The API list carries the same, for the holder and for admins.
    const mine = (await listHosts(t.db, setup.holder, { per_page: 500 })).data.find((h) => h.id === hostId)!;
    expect(mine.access?.command).toBe("ssh kiln@192.0.2.50");
    expect(mine.provisioning.state).toBe("deployed");
    const all = (await listHosts(t.db, setup.admin, { q: mac })).data.find((h) => h.id === hostId)!;
    expect(all.addresses).toHaveLength(2);
    // Nobody else learns where the machine is.
    await expectAppError(getHostDetail(t.db, setup.outsider, hostId), "not_found");
  });

  it("the deploy agent's inventory: routable addresses per NIC (not link-local), the run's username var, and a failed run says failed", async () => {
    const { hostId, mac, machine } = await setup.heldHost();
    const img = await seedReadyImage(t.db, { ownerUserId: setup.holder.user!.id });
    const run = await startDeployment(t.db, setup.holder, hostId, { action: "deploy_image", imageId: img.image.id, vars: { username: "ada" } });
    await runWorkerSteps(t.db, run.id, "deploy_image", { backoffMs: [] });
    await machine.boot();
    await machine.instructions();
    const nics = [
      { mac, name: "eth0", addresses: ["10.0.2.15/24", "fe80::5054:ff:fe00:2/64", "not-an-address"] },
      { mac: "52:54:00:a7:ff:01", name: "eth1", addresses: [] },
    ];
    expect((await machine.inventory({ cpuCores: 2, nics })).status).toBe(200);
    let detail = await getHostDetail(t.db, setup.holder, hostId);
    expect(detail.host.addresses.filter((a) => a.source === "agent")).toEqual([expect.objectContaining({ address: "10.0.2.15", mac, family: 4, scope: "private" })]);
    expect(detail.host.access?.command).toBe("ssh ada@10.0.2.15");
    // The addresses are not copied into the facts the page lists.
    expect(JSON.stringify(detail.host.facts)).not.toContain("10.0.2.15");

    expect((await machine.failed("disk vdz not found")).status).toBe(200);
    detail = await getHostDetail(t.db, setup.admin, hostId);
    expect(detail.host.provisioning).toMatchObject({ state: "failed", runState: "failed", action: "deploy_image" });
    expect(detail.host.provisioning.failureReason).toMatch(/disk vdz not found/);
    // A JSON body the checks refuse (too many addresses) is a 400 with a sentence, not a 500.
    const bad = await machine.inventory({ nics: [{ mac, name: "eth0", addresses: Array.from({ length: 40 }, (_, i) => `10.0.0.${i}`) }] });
    expect(bad.status).toBe(400);
  });

  it("the boot server's batched writes record the source address with the last seen, and keep only the newest few", async () => {
    const { hostId, mac } = await setup.heldHost({ lease: false });
    const writes = new BootWrites({ db: t.db, siteId: null, onFlushed: () => {} });
    const base = Date.now();
    for (let i = 0; i < ADDRESSES_KEPT_PER_SOURCE + 3; i++) writes.touch(hostId, new Date(base + i * 1000), `::ffff:198.51.100.${i + 1}`, mac);
    // One touch per host waits (the latest); flushed as one statement with the last seen.
    expect(writes.pending).toBe(1);
    expect(await writes.flush()).toEqual({ ok: true });
    for (let i = 0; i < ADDRESSES_KEPT_PER_SOURCE + 3; i++) {
      writes.touch(hostId, new Date(base + i * 1000), `198.51.100.${i + 1}`, mac);
      await writes.flush();
    }
    const rows = await listAddressesOfHosts(t.db, [hostId]);
    expect(rows.map((r) => r.address)).toEqual(Array.from({ length: ADDRESSES_KEPT_PER_SOURCE }, (_, i) => `198.51.100.${ADDRESSES_KEPT_PER_SOURCE + 3 - i}`));
    expect(rows.every((r) => r.source === "boot" && r.mac === mac)).toBe(true);
    // A late touch does not move seen_at backwards.
    const newest = rows[0]!;
    writes.touch(hostId, new Date(base - 60_000), newest.address, mac);
    await writes.flush();
    expect((await listAddressesOfHosts(t.db, [hostId]))[0]!.seenAt.getTime()).toBe(newest.seenAt.getTime());
  });

  it("a researcher sees only addresses seen since the host joined their lease; admins see all", async () => {
    const { hostId } = await setup.heldHost();
    const hourAgo = new Date(Date.now() - 3600_000);
    await recordHostAddresses(t.db, { hostId, source: "installed", addresses: [{ address: "192.0.2.99", mac: null }], at: hourAgo });
    await recordHostAddresses(t.db, { hostId, source: "agent", addresses: [{ address: "192.0.2.100", mac: null }], at: new Date() });
    const theirs = await getHostDetail(t.db, setup.holder, hostId);
    expect(theirs.host.addresses.map((a) => a.address)).toEqual(["192.0.2.100"]);
    expect(theirs.host.access?.command).toBe("ssh root@192.0.2.100");
    const listed = (await listHosts(t.db, setup.holder, { per_page: 500 })).data.find((h) => h.id === hostId)!;
    expect(listed.addresses.map((a) => a.address)).toEqual(["192.0.2.100"]);
    const admins = await getHostDetail(t.db, setup.admin, hostId);
    expect(admins.host.addresses.map((a) => a.address)).toEqual(["192.0.2.100", "192.0.2.99"]);
    // Installed beats agent for the ssh line when both are there.
    expect(admins.host.access?.command).toBe("ssh root@192.0.2.99");
  });

  it("a machine the caller does not hold shows no run of another lease", async () => {
    // Admin's view of an unleased host: no run, no address, status none.
    const { hostId } = await setup.heldHost({ lease: false });
    const detail = await getHostDetail(t.db, setup.admin, hostId);
    expect(detail.host).toMatchObject({ addresses: [], access: null, provisioning: { state: "none", runId: null } });
  });
});
