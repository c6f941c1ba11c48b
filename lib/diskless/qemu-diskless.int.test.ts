// Diskless boot on real machines (docs/diskless.md): QEMU (SeaBIOS + iPXE, TCG) network-boots
// Kiln's deploy ramdisk through Kiln's own routes; the ramdisk attaches the host's copy-on-write
// root over NBD (qemu-nbd serving a qcow2 overlay of the version) and switches into the image's
// /sbin/init, which counts its boots in a file and keeps a file written at its first boot. One
// machine boots twice (the file is still there), a second machine on the same version does not
// see it, a name other than a machine's own is refused by the export, capture differs from the
// base only where written, reinstall discards the changes and release deletes the overlay.
import "@/test/harness/route-handler";
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getLiveDisklessRoot } from "@/db/queries/diskless";
import { getImageVersionRow } from "@/db/queries/images";
import { answerBootRequest } from "@/lib/boot/boot-service";
import { getDeployment } from "@/lib/deployments/views";
import { getNextBoot } from "@/lib/deployments/next-boot";
import { runWorkerSteps } from "@/lib/deployments/worker";
import { probeNbdExport } from "@/lib/exports/nbd";
import { getImageStorage } from "@/lib/images/storage";
import { useTestDb } from "@/test/harness/database";
import { buildDisklessRootImage } from "@/test/harness/diskless-image";
import { setTestEnvDefaults } from "@/test/harness/env";
import { seedReadyImage, startQemuProvisioningSetup, stopQemuProvisioningSetup, waitFor as waitUntil, type ProvisioningSetup } from "@/test/harness/provisioning";
import { GUEST_KILN_URL, startVm, waitFor, type Vm } from "@/test/harness/qemu";
import { startDeployment } from "@/lib/deployments/start";
import { startDisklessBoot } from "@/lib/deployments/diskless-boot";
import { captureDisklessRoot, exportsOfProcess, reinstallDisklessRoot, releaseDisklessRoot, syncDisklessExports } from "./diskless";

const execp = promisify(execFile);
const t = await useTestDb();
const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-diskless-"));
// Machines dial the export at 10.0.2.101 (a guestfwd to the loopback port qemu-nbd listens on).
const NBD_GUEST = "10.0.2.101";
setTestEnvDefaults({ KILN_DATA_DIR: path.join(tmp, "data"), KILN_RAMDISK_DIR: path.join(tmp, "ramdisk"), KILN_NBD_BIND_ADDRESS: "127.0.0.1", KILN_NBD_ADDRESS: NBD_GUEST });

let setup: ProvisioningSetup;
const vms: Vm[] = [];

beforeAll(async () => {
  setup = await startQemuProvisioningSetup(t.db, { name: "qemu-diskless", macByte: 0xd8, tmp });
}, 600_000);

afterAll(async () => {
  await exportsOfProcess().stopAll();
  await stopQemuProvisioningSetup({ setup, vms, tmp });
});

async function bootOnce(mac: string, hostId: string, disk: string): Promise<string> {
  const root = (await getLiveDisklessRoot(t.db, hostId))!;
  expect(root.port).toBeGreaterThan(0);
  const vm = await startVm({
    mac,
    kilnPort: setup.server.port,
    diskPath: disk,
    memoryMb: 512,
    bootfile: `${GUEST_KILN_URL}/boot/${mac.replace(/:/g, "-")}`,
    guestForwards: [{ address: NBD_GUEST, port: root.port!, hostPort: root.port! }],
  });
  vms.push(vm);
  await waitFor(async () => vm.serial().includes("KILN-DISKLESS-SYNCED"), 240_000, vm, "the diskless system's init to sync");
  await waitFor(async () => vm.process.exitCode !== null, 60_000, vm, "the machine to power off");
  return vm.serial();
}

describe("diskless boot from a copy-on-write root over NBD", () => {
  it("boots, keeps its writes across a reboot, another machine does not see them, foreign names are refused, capture/reinstall/release", async () => {
    const { holder } = setup;
    const a = await setup.heldHost();
    const b = await setup.heldHost();
    const imgFile = path.join(tmp, "root.img");
    await buildDisklessRootImage(imgFile);
    const baseBytes = await fs.readFile(imgFile);
    const img = await seedReadyImage(t.db, { ownerUserId: holder.user!.id, bytes: baseBytes, format: "raw" });

    // The machine's own disk: never written by a diskless boot.
    const diskA = path.join(tmp, "disk-a.raw");
    await fs.writeFile(diskA, Buffer.alloc(16 * 1024 * 1024, 0xaa));

    const t0 = performance.now();
    // Through the deployments API's own entry (POST /api/v1/hosts/{id}/deployments with diskless: true).
    const runA = await startDeployment(t.db, holder, a.hostId, { action: "deploy_image", imageId: img.image.id, diskless: true });
    const created = performance.now() - t0;
    // What the worker's sync-diskless-exports job does after the change.
    await syncDisklessExports(t.db);
    expect(runA.steps.map((s) => s.name)).toEqual(["power_on", "boot", "root"]);
    await runWorkerSteps(t.db, runA.id, "deploy_image", { backoffMs: [] });
    const rootA = (await getLiveDisklessRoot(t.db, a.hostId))!;
    expect((await fs.stat(rootA.overlayPath)).size).toBeLessThan(1024 * 1024);

    const started = Date.now();
    const first = await bootOnce(a.mac, a.hostId, diskA);
    console.info(`diskless run created in ${created.toFixed(0)} ms; first boot to synced init in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(first).toMatch(/KILN-DISKLESS-UP boots=1 root=\/dev\/nbd0p1/);
    expect(first).not.toContain("KILN-DISKLESS-FILE");
    // The export's name never shows on the console (the ramdisk prints <export>).
    expect(first).not.toContain(rootA.exportName);
    const view = await waitUntil("the run's end", () => getDeployment(t.db, holder, runA.id), (v) => v.state !== "running" && v.state !== "pending", 30_000);
    expect(view.state, view.failureReason ?? "").toBe("done");
    expect(view.steps.map((s) => [s.name, s.state])).toEqual([["power_on", "done"], ["boot", "done"], ["root", "done"]]);
    expect(view.logs.map((l) => l.line)).toEqual(expect.arrayContaining([expect.stringMatching(/^diskless: root \/dev\/nbd0p1 mounted/)]));
    expect((await fs.readFile(diskA)).equals(Buffer.alloc(16 * 1024 * 1024, 0xaa))).toBe(true);
    // The host page's "Next boot" says what the boot answer does.
    expect(await getNextBoot(t.db, holder, a.hostId)).toMatchObject({ kind: "diskless", imageId: img.image.id, imageVersion: img.version, deploymentId: runA.id });

    // Reboot: no run any more; the host's boot answer is still its diskless root, without a token.
    const again = await bootOnce(a.mac, a.hostId, diskA);
    expect(again).toContain("KILN-DISKLESS-UP boots=2");
    expect(again).toContain("KILN-DISKLESS-FILE written at boot 1");

    // A second machine on the same version: its own overlay, none of A's changes.
    const runB = await startDisklessBoot(t.db, holder, b.hostId, { imageId: img.image.id });
    await syncDisklessExports(t.db);
    await runWorkerSteps(t.db, runB.id, "deploy_image", { backoffMs: [] });
    const rootB = (await getLiveDisklessRoot(t.db, b.hostId))!;
    const diskB = path.join(tmp, "disk-b.raw");
    await fs.writeFile(diskB, Buffer.alloc(16 * 1024 * 1024));
    const other = await bootOnce(b.mac, b.hostId, diskB);
    expect(other).toContain("KILN-DISKLESS-UP boots=1");
    expect(other).not.toContain("KILN-DISKLESS-FILE");

    // Isolation: each boot answer carries only its own machine's export; A's export refuses B's
    // name (and any other), B's refuses A's.
    const answerB = await answerBootRequest(t.db, { mac: b.mac, sourceIp: "127.0.0.1" });
    expect(answerB.body).toContain(`set kiln_nbd ${NBD_GUEST}:${rootB.port}/${rootB.exportName}`);
    expect(answerB.body).not.toContain(rootA.exportName);
    expect(await probeNbdExport("127.0.0.1", rootA.port!, rootA.exportName)).toBe("ok");
    expect(await probeNbdExport("127.0.0.1", rootA.port!, rootB.exportName)).toBe("unknown");
    expect(await probeNbdExport("127.0.0.1", rootB.port!, rootA.exportName)).toBe("unknown");
    await expect(execp("qemu-io", ["-r", "-f", "raw", `nbd://127.0.0.1:${rootA.port}/${rootB.exportName}`, "-c", "read 0 512"])).rejects.toThrow();

    // Capture: a new version whose bytes differ from the base only inside the overlay's own clusters.
    const captured = await captureDisklessRoot(t.db, holder, a.hostId, { imageId: img.image.id });
    expect(captured.version).toBe(img.version + 1);
    const row = (await getImageVersionRow(t.db, { imageId: img.image.id, version: captured.version }))!;
    const capturedBytes = await fs.readFile(getImageStorage().localBlobPath(row.storageKey!)!);
    expect(capturedBytes.length).toBe(baseBytes.length);
    const { stdout } = await execp("qemu-img", ["map", "-U", "--output=json", rootA.overlayPath]);
    const written = (JSON.parse(stdout) as { start: number; length: number; depth: number; data: boolean }[]).filter((m) => m.depth === 0 && m.data);
    expect(written.length).toBeGreaterThan(0);
    let differing = 0;
    for (let i = 0; i < baseBytes.length; i++) {
      if (baseBytes[i] === capturedBytes[i]) continue;
      differing++;
      if (!written.some((m) => i >= m.start && i < m.start + m.length)) throw new Error(`byte ${i} differs outside what the machine wrote`);
    }
    expect(differing).toBeGreaterThan(0);
    const writtenBytes = written.reduce((n, m) => n + m.length, 0);
    console.info(`capture: ${differing} bytes differ from the base, all inside the ${writtenBytes} bytes of overlay clusters (of ${baseBytes.length})`);

    // Reinstall: a new empty overlay (nothing of A's writes), on the same export.
    await reinstallDisklessRoot(t.db, holder, a.hostId);
    await syncDisklessExports(t.db);
    const fresh = (await getLiveDisklessRoot(t.db, a.hostId))!;
    expect(fresh.overlayPath).not.toBe(rootA.overlayPath);
    expect(fresh.port).toBe(rootA.port);
    await expect(fs.stat(rootA.overlayPath)).rejects.toThrow();
    const freshMap = JSON.parse((await execp("qemu-img", ["map", "-U", "--output=json", fresh.overlayPath])).stdout) as { depth: number; data: boolean }[];
    expect(freshMap.filter((m) => m.depth === 0 && m.data)).toEqual([]);
    expect(await probeNbdExport("127.0.0.1", fresh.port!, fresh.exportName)).toBe("ok");

    // Release: export stopped, overlay deleted, the host boots its disk again.
    await releaseDisklessRoot(t.db, holder, a.hostId);
    await syncDisklessExports(t.db);
    expect(await getLiveDisklessRoot(t.db, a.hostId)).toBeUndefined();
    await expect(fs.stat(fresh.overlayPath)).rejects.toThrow();
    await expect(probeNbdExport("127.0.0.1", fresh.port!, fresh.exportName, 1000)).rejects.toThrow();
    const answerA = await answerBootRequest(t.db, { mac: a.mac, sourceIp: "127.0.0.1" });
    expect(answerA.body).not.toContain("kiln_nbd");
    expect(await getNextBoot(t.db, holder, a.hostId)).toEqual({ kind: "disk" });
  }, 900_000);
});
