// A failed write never boots, on a real machine: QEMU (OVMF + the iPXE ROM labs run) network-
// boots Kiln's deploy ramdisk through Kiln's own routes, and the real agent writes an image
// whose stored blob was corrupted on disk after it became ready. The agent's checksum fails the
// run; the disk, which held a GPT-labelled system before, has no partition table at all; the
// worker re-checks the blob and fails the version, so a new deploy of it is refused; and the
// machine's next network boot gets the halt script (on its console), not its disk.
import "@/test/harness/route-handler";
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getImageVersionRow } from "@/db/queries/images";
import { getImageStorage } from "@/lib/images/storage";
import { seedReadyImage, startQemuProvisioningSetup, stopQemuProvisioningSetup, waitFor as waitUntil, type ProvisioningSetup } from "@/test/harness/provisioning";
import { useTestDb } from "@/test/harness/database";
import { setTestEnvDefaults } from "@/test/harness/env";
import { expectAppError } from "@/test/harness/fixtures";
import { GUEST_KILN_URL, startVm, waitFor, type Vm } from "@/test/harness/qemu";
import { startWorker } from "@/workers/worker";
import { getDeployment } from "./views";
import { startDeployment } from "./start";
import { getNextBoot } from "./next-boot";
import { buildBootableImage } from "@/lab/bootable-image";
import { runWorkerSteps } from "./worker";

const t = await useTestDb();
const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-failed-write-"));
setTestEnvDefaults({ KILN_DATA_DIR: path.join(tmp, "data"), KILN_RAMDISK_DIR: path.join(tmp, "ramdisk") });
const MiB = 1024 * 1024;

let setup: ProvisioningSetup;
const vms: Vm[] = [];

function sfdisk(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile("sfdisk", args, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
    child.stdin!.on("error", () => {});
    child.stdin!.end(input ?? "");
  });
}

beforeAll(async () => {
  setup = await startQemuProvisioningSetup(t.db, { name: "qemu-fw", macByte: 0xd6, tmp });
}, 600_000);

afterAll(() => stopQemuProvisioningSetup({ setup, vms, tmp }));

describe("a real deploy that succeeds, its first MiB written last", () => {
  it("SeaBIOS + iPXE: the ramdisk writes a bootable image; the next network boot is local and the machine boots what was written", async () => {
    const { holder } = setup;
    const { hostId, mac } = await setup.heldHost();
    const marker = `head-last-${Date.now().toString(36)}`;
    const imgFile = path.join(tmp, "bootable.img");
    await buildBootableImage({ kernelPath: path.join(tmp, "ramdisk", "vmlinuz"), outPath: imgFile, marker });
    const img = await seedReadyImage(t.db, { ownerUserId: holder.user!.id, bytes: await fs.readFile(imgFile) });
    const disk = path.join(tmp, "disk-ok.raw");
    await fs.writeFile(disk, "");
    await fs.truncate(disk, 64 * MiB);
    // What was there before: a GPT label, which must not survive beside the image's MBR.
    expect((await sfdisk(["--quiet", disk], "label: gpt\nstart=2048, size=32768, type=uefi\n")).code).toBe(0);

    const run = await startDeployment(t.db, holder, hostId, { action: "deploy_image", imageId: img.image.id, disk: "vda" });
    await runWorkerSteps(t.db, run.id, "deploy_image", { backoffMs: [] });
    const started = Date.now();
    const vm = await startVm({ mac, kilnPort: setup.server.port, diskPath: disk, bootfile: `${GUEST_KILN_URL}/boot/${mac.replace(/:/g, "-")}` });
    vms.push(vm);
    const view = await waitUntil("the run's end", () => getDeployment(t.db, holder, run.id), (v) => v.state !== "running" && v.state !== "pending", 240_000).catch((e) => {
      throw new Error(`${(e as Error).message}\nserial:\n${vm.serial().slice(-4000)}`);
    });
    console.info(`deploy of ${img.bytes.length} bytes done after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(view.state, `${view.failureReason}\n${vm.serial().slice(-3000)}`).toBe("done");
    expect(view.progress).toMatchObject({ bytesWritten: img.bytes.length, totalBytes: img.bytes.length });
    expect(view.logs.map((l) => l.line)).toContain(`wrote ${img.bytes.length} bytes to /dev/vda, its first MiB last; sha256 of the delivered image matches`);
    await waitFor(async () => vm.process.exitCode !== null, 60_000, undefined, "the machine to reboot (QEMU to exit)");
    const after = await fs.readFile(disk);
    expect(createHash("sha256").update(after.subarray(0, img.bytes.length)).digest("hex")).toBe(img.sha256);
    expect((await sfdisk(["--dump", disk])).stdout).toMatch(/label: dos/);

    expect(await getNextBoot(t.db, holder, hostId)).toEqual({ kind: "disk" });
    const again = await startVm({ mac, kilnPort: setup.server.port, diskPath: disk, bootfile: `${GUEST_KILN_URL}/boot/${mac.replace(/:/g, "-")}` });
    vms.push(again);
    await waitFor(async () => again.serial().includes(`KILN-BOOTED ${marker}`), 120_000, again, "the image's marker on the console");
    await again.stop();
  }, 600_000);
});

describe("a real deploy of a blob corrupted in storage", () => {
  it("fails with the checksum reason, leaves no partition table, fails the version, refuses it again, and halts the machine's next boot", async () => {
    const { holder } = setup;
    const { hostId, mac } = await setup.heldHost();

    // The image: a GPT-less MBR disk of 8 MiB, ready in storage; then one byte of the stored file flips.
    const imgFile = path.join(tmp, "image.raw");
    await fs.writeFile(imgFile, Buffer.concat([Buffer.alloc(MiB), randomBytes(7 * MiB)]));
    expect((await sfdisk(["--quiet", imgFile], "label: dos\nstart=2048, type=83, bootable\n")).code).toBe(0);
    const img = await seedReadyImage(t.db, { ownerUserId: holder.user!.id, bytes: await fs.readFile(imgFile) });
    const stored = getImageStorage().localBlobPath((await getImageVersionRow(t.db, { imageId: img.image.id, version: img.version }))!.storageKey!)!;
    const fh = await fs.open(stored, "r+");
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, 3 * MiB + 5);
    b[0] = b[0]! ^ 0xff;
    await fh.write(b, 0, 1, 3 * MiB + 5);
    await fh.close();

    // The machine's disk held a working system before: a GPT label (primary and backup header).
    const disk = path.join(tmp, "disk.raw");
    await fs.writeFile(disk, "");
    await fs.truncate(disk, 64 * MiB);
    expect((await sfdisk(["--quiet", disk], "label: gpt\nstart=2048, size=32768, type=uefi\n")).code).toBe(0);
    expect((await sfdisk(["--dump", disk])).stdout).toMatch(/label: gpt/);

    const worker = await startWorker(t.url, { pollingIntervalSeconds: 0.5 });
    try {
      const run = await startDeployment(t.db, holder, hostId, { action: "deploy_image", imageId: img.image.id, disk: "vda" });
      await runWorkerSteps(t.db, run.id, "deploy_image", { backoffMs: [] });
      const started = Date.now();
      const vm = await startVm({ mac, kilnPort: setup.server.port, uefi: true, diskPath: disk, bootfile: `${GUEST_KILN_URL}/boot/${mac.replace(/:/g, "-")}` });
      vms.push(vm);
      // The agent fails; the ramdisk reboots the machine (QEMU, -no-reboot, exits).
      const view = await waitUntil("the run's end", () => getDeployment(t.db, holder, run.id), (v) => v.state !== "running" && v.state !== "pending", 240_000).catch((e) => {
        throw new Error(`${(e as Error).message}\nserial:\n${vm.serial().slice(-4000)}`);
      });
      console.info(`deploy failed after ${((Date.now() - started) / 1000).toFixed(1)} s`);
      expect(view.state, vm.serial().slice(-3000)).toBe("failed");
      expect(view.failureReason).toMatch(new RegExp(`^Verify the written image: checksum mismatch: expected ${img.sha256}, got [0-9a-f]{64} — .*the disk was left without a partition table, so it does not boot$`));
      expect(view.steps.find((s) => s.name === "write")?.state).toBe("done");
      await waitFor(async () => vm.process.exitCode !== null, 60_000, undefined, "the machine to reboot (QEMU to exit)");

      // The disk, read from the host: the old GPT is gone (both headers), and the new MBR was never written.
      const after = await fs.readFile(disk);
      expect(after.subarray(0, MiB).equals(Buffer.alloc(MiB))).toBe(true);
      expect(after.subarray(after.length - MiB).equals(Buffer.alloc(MiB))).toBe(true);
      const dump = await sfdisk(["--dump", disk]);
      expect(dump.code).not.toBe(0);
      expect(dump.stderr).toMatch(/does not contain a recognized partition table/);
      // Everything after the first MiB is the (corrupted) image as delivered.
      const blob = await fs.readFile(stored).catch(() => null);
      if (blob) expect(createHash("sha256").update(after.subarray(MiB, 8 * MiB)).digest("hex")).toBe(createHash("sha256").update(blob.subarray(MiB)).digest("hex"));

      // The worker re-checked the stored bytes: the version failed with the reason.
      const v = await waitUntil("the version's re-check", () => getImageVersionRow(t.db, { imageId: img.image.id, version: img.version }), (r) => r?.state === "failed", 60_000);
      expect(v!.failureReason).toMatch(/^the stored bytes no longer match their checksum: expected [0-9a-f]{64}, got [0-9a-f]{64} \(found by a deploy of it to qemu-fw-\d+ failed its checksum/);
      await expectAppError(
        startDeployment(t.db, holder, hostId, { action: "deploy_image", imageId: img.image.id, imageVersion: img.version }),
        "validation",
        /^Version 1 of that image is not ready \(failed: the stored bytes no longer match their checksum/,
      );
    } finally {
      await worker.stop();
    }

    // The next network boot: Kiln answers the halt script; iPXE prints why and waits instead of booting the disk.
    expect(await getNextBoot(t.db, holder, hostId)).toMatchObject({ kind: "halt", reason: expect.stringContaining("checksum mismatch") });
    const again = await startVm({ mac, kilnPort: setup.server.port, uefi: true, diskPath: disk, bootfile: `${GUEST_KILN_URL}/boot/${mac.replace(/:/g, "-")}` });
    vms.push(again);
    await waitFor(async () => /Kiln: the last write to this machine's disk failed or was cancelled: Verify the written image: checksum mismatch/.test(again.serial()), 120_000, again, "the halt message on the console");
    // Ten seconds on, it is still there, halted: it neither booted nor left iPXE for the firmware's next entry.
    await new Promise((r) => setTimeout(r, 10_000));
    expect(again.process.exitCode).toBeNull();
    expect(again.serial()).not.toMatch(/boots from its local disk|Booting from Hard Disk|BdsDxe: loading Boot\d+ "UEFI Misc Device/);
    await again.stop();
  }, 600_000);
});
