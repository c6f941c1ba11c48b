// The virtual lab's pieces without the portal: registration against a real database (and
// again, finding what it made), the newcomer's account and lease, the demo image, and a
// launch script that really starts QEMU, network-boots first and answers the qemu driver.
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { afterAll, describe, expect, it } from "vitest";
import { getUserByEmail } from "@/db/queries/users";
import { actorOf, SYSTEM } from "@/lib/access/actor";
import { authenticateWithPassword } from "@/lib/auth/authenticate";
import { createHost, listHosts, updateHost } from "@/lib/hosts/hosts";
import { getImage } from "@/lib/images/images";
import { imagesRoot } from "@/lib/images/storage";
import { createLease } from "@/lib/leases/leases";
import { listPools } from "@/lib/pools/pools";
import { qemuDriver } from "@/lib/power/qemu";
import type { PowerContext } from "@/lib/power/types";
import { useTestDb } from "@/test/harness/database";
import { setTestEnvDefaults } from "@/test/harness/env";
import { testContext } from "@/test/harness/fixtures";
import { ensureLabAccount, ensureLabImage, GUEST_NBD_ADDRESS, LAB_ACCOUNT_EMAIL, LAB_IMAGE, LAB_POOL, planLabMachines, registerLab, stopLabMachines, writeLabMachine } from "./lab";

const t = await useTestDb();
const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-lab-"));
setTestEnvDefaults({ KILN_DATA_DIR: dataDir });
afterAll(async () => {
  await stopLabMachines(dataDir).catch(() => {});
  await fs.rm(dataDir, { recursive: true, force: true });
});

const KILN = { host: "127.0.0.1", port: 9 };
const spec = { count: 2, uefi: false, memoryMb: 256, diskGb: 1 };

async function sha256(file: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(file), hash);
  return hash.digest("hex");
}

describe("lab registration", () => {
  it("registers pool, hosts and an account once, and finds them at the next start", async () => {
    const machines = planLabMachines(dataDir, spec);
    for (const m of machines) await writeLabMachine(m, KILN);
    // A host that happens to have a lab name but is not a lab machine is left alone.
    await createHost(t.db, SYSTEM, { name: "lab-03", interfaces: [{ mac: "02:00:00:00:aa:03" }] });

    const first = await registerLab(t.db, [...machines, ...planLabMachines(dataDir, { ...spec, count: 3 }).slice(2)]);
    expect(first.hosts.map((h) => [h.name, h.outcome, h.state])).toEqual([
      ["lab-01", "created", "available"],
      ["lab-02", "created", "available"],
      ["lab-03", "skipped", "available"],
    ]);
    expect(first.hosts[2]!.message).toContain("without the lab's MAC 52:54:00:4b:4c:03");

    const again = await registerLab(t.db, machines);
    expect(again).toMatchObject({ poolId: first.poolId, projectId: first.projectId });
    expect(again.hosts.map((h) => h.outcome)).toEqual(["unchanged", "unchanged"]);
    expect((await listPools(t.db)).filter((p) => p.name === LAB_POOL)).toHaveLength(1);

    const hosts = (await listHosts(t.db, SYSTEM, { q: "lab-", sort: "name" })).data.filter((h) => h.poolId === first.poolId);
    expect(hosts.map((h) => ({ name: h.name, macs: h.interfaces.map((i) => i.mac), power: h.power, memoryMb: h.memoryMb, disks: h.disks }))).toEqual(
      machines.map((m) => ({
        name: m.name,
        macs: [m.mac],
        power: { driver: "qemu", params: { qmpSocket: m.qmpSocket, launch: m.launch, serialSocket: m.serialSocket }, secretsSet: [] },
        memoryMb: 256,
        disks: [{ name: "vda", sizeBytes: 1024 ** 3, serial: m.name, model: "QEMU virtio disk" }],
      })),
    );
    expect((await fs.stat(machines[0]!.disk)).size).toBe(1024 ** 3);

    // Other flags on a later start change only what the lab owns; memory and disks are the
    // deploy agent's inventory once the host exists.
    await updateHost(t.db, SYSTEM, first.hosts[0]!.id!, { memoryMb: 457 });
    const changed = await registerLab(t.db, planLabMachines(dataDir, { ...spec, uefi: true, memoryMb: 384 }));
    expect(changed.hosts.map((h) => [h.outcome, h.message])).toEqual([
      ["updated", "changed tags"],
      ["updated", "changed tags"],
    ]);
    expect((await listHosts(t.db, SYSTEM, { q: "lab-01" })).data[0]).toMatchObject({ tags: ["qemu", "uefi"], memoryMb: 457 });

    // The newcomer's account: made once, same password at the next start, signs in, leases.
    const account = await ensureLabAccount(t.db, { dataDir, projectId: first.projectId });
    expect(account).toMatchObject({ email: LAB_ACCOUNT_EMAIL, note: "created" });
    expect(account.password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect((await fs.stat(path.join(dataDir, "lab", "account.json"))).mode & 0o777).toBe(0o600);
    expect(await ensureLabAccount(t.db, { dataDir, projectId: first.projectId })).toEqual({ ...account, note: "" });
    const user = await authenticateWithPassword(t.db, { method: "password", login: LAB_ACCOUNT_EMAIL, password: account.password! }, testContext());
    expect(user.role).toBe("user");
    const lease = await createLease(t.db, actorOf(user, testContext()), { poolId: first.poolId, count: 1 });
    expect(lease).toMatchObject({ projectId: first.projectId, poolName: LAB_POOL, hosts: [{ name: expect.stringMatching(/^lab-0[12]$/) }] });

    // A lost password file gets a new password rather than a dead account.
    await fs.rm(path.join(dataDir, "lab", "account.json"));
    const renewed = await ensureLabAccount(t.db, { dataDir, projectId: first.projectId });
    expect(renewed.password).not.toBe(account.password);
    expect(renewed.note).toMatch(/^new password/);
    await authenticateWithPassword(t.db, { method: "password", login: LAB_ACCOUNT_EMAIL, password: renewed.password! }, testContext());
  });

  it("registers the public demo image once, with the bytes it built", async () => {
    // Any file serves as the kernel here: the image is only built, not booted.
    const kernelPath = path.join(dataDir, "fake-vmlinuz");
    await fs.writeFile(kernelPath, randomBytes(512 * 1024));
    const made = await ensureLabImage(t.db, { dataDir, kernelPath });
    expect(made).toMatchObject({ created: true, version: 1, marker: `KILN-BOOTED ${LAB_IMAGE}` });
    const image = await getImage(t.db, SYSTEM, made.imageId);
    expect(image).toMatchObject({ name: LAB_IMAGE, visibility: "public", ownerUserId: null, latestVersion: 1 });
    expect(image.versions[0]).toMatchObject({ state: "ready", format: "raw-mbr", sizeBytes: 32 * 1024 * 1024 });
    expect(await sha256(path.join(imagesRoot(), "blobs", made.imageId, "1"))).toBe(image.versions[0]!.sha256);
    await expect(fs.stat(path.join(dataDir, "lab", `${LAB_IMAGE}.img`))).rejects.toThrow();

    expect(await ensureLabImage(t.db, { dataDir, kernelPath })).toEqual({ ...made, created: false });
    const researcher = (await getUserByEmail(t.db, LAB_ACCOUNT_EMAIL))!;
    expect((await getImage(t.db, actorOf(researcher, null), made.imageId)).name).toBe(LAB_IMAGE);
  });
});

describe("lab machine", () => {
  it("starts from its launch script, asks Kiln first over the network, and answers the qemu driver", async () => {
    const requests: string[] = [];
    // Stands in for an NBD export's port (KILN_NBD_PORTS): iPXE cannot speak NBD, but an HTTP
    // request through 10.0.2.101:<port> takes the same guestfwd a machine's nbd-client takes.
    const exportPort = http.createServer((req, res) => {
      requests.push(`export:${req.url}`);
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => exportPort.listen(0, "127.0.0.1", resolve));
    const nbdPort = (exportPort.address() as { port: number }).port;
    const kiln = http.createServer((req, res) => {
      requests.push(req.url ?? "");
      if (req.url === "/boot/chain.ipxe") res.writeHead(200).end(`#!ipxe\nchain ${"http"}://${GUEST_NBD_ADDRESS}:${nbdPort}/through-the-export-forward\n`);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => kiln.listen(0, "127.0.0.1", resolve));
    const [m] = planLabMachines(dataDir, { ...spec, count: 1 });
    await writeLabMachine(m!, { host: "127.0.0.1", port: (kiln.address() as { port: number }).port, nbd: { host: "127.0.0.1", ports: { first: nbdPort - 1, last: nbdPort } } });
    // A guestfwd per port of the range, to the same port on the export host, and nothing more.
    const script = await fs.readFile(m!.launch, "utf8");
    expect(script.match(new RegExp(`guestfwd=tcp:${GUEST_NBD_ADDRESS.replace(/\./g, "\\.")}:\\d+`, "g"))).toEqual([`guestfwd=tcp:${GUEST_NBD_ADDRESS}:${nbdPort - 1}`, `guestfwd=tcp:${GUEST_NBD_ADDRESS}:${nbdPort}`]);
    expect(script).toContain(`nc 127.0.0.1 ${nbdPort}`);
    const ctx: PowerContext = { host: { name: m!.name, macs: [m!.mac], pxeMac: m!.mac }, params: { qmpSocket: m!.qmpSocket, launch: m!.launch }, secrets: {}, log: () => {} };
    const until = async (what: string, ok: () => Promise<boolean>, ms: number) => {
      // A status asked just as QEMU quits can see its monitor reset the connection: asked again.
      for (const end = Date.now() + ms; !(await ok().catch(() => false)); await new Promise((r) => setTimeout(r, 200))) {
        if (Date.now() > end) throw new Error(`${what} within ${ms} ms; requests: ${requests.join(", ")}; qemu: ${await fs.readFile(m!.qemuLog, "utf8").catch(() => "")}`);
      }
    };
    try {
      expect(await qemuDriver.run("status", ctx)).toMatchObject({ state: "off" });
      expect(await qemuDriver.run("on", ctx)).toMatchObject({ state: "on", message: "VM started." });
      await until("the VM did not report running", async () => (await qemuDriver.run("status", ctx)).state === "on", 10_000);
      // restrict=on plus the guestfwd: iPXE reaches "Kiln" at 10.0.2.100, before any disk.
      await until("iPXE did not ask for /boot/chain.ipxe", async () => requests.includes("/boot/chain.ipxe"), 30_000);
      // …and reaches an export port at 10.0.2.101 (what diskless roots and extra disks dial).
      await until("iPXE did not reach the export port through 10.0.2.101", async () => requests.includes("export:/through-the-export-forward"), 30_000);
      expect(await qemuDriver.run("off", ctx)).toMatchObject({ state: "off" });
      await until("the VM did not stop", async () => (await qemuDriver.run("status", ctx)).state === "off", 10_000);

      // The launcher's Ctrl-C path: every running lab machine is quit over QMP.
      await qemuDriver.run("on", ctx);
      await until("the VM did not report running", async () => (await qemuDriver.run("status", ctx)).state === "on", 10_000);
      expect(await stopLabMachines(dataDir)).toEqual(["lab-01"]);
      await until("the VM did not stop", async () => (await qemuDriver.run("status", ctx)).state === "off", 10_000);
      expect(await stopLabMachines(dataDir)).toEqual([]);
      expect((await fs.readFile(m!.serialLog, "utf8")).match(/lab-01 powered on/g)).toHaveLength(2);
    } finally {
      await qemuDriver.run("off", ctx).catch(() => {});
      kiln.close();
      exportPort.close();
    }
  });
});
