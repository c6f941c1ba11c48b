// A sparse image deployed through its block map on a real machine: QEMU (SeaBIOS + iPXE)
// network-boots Kiln's deploy ramdisk through Kiln's own routes; the real agent zeroes the
// virtio disk without writing it (fallocate --punch-hole → WRITE ZEROES) and writes only the
// mapped ranges of a zstd image. The disk, read from the host, hashes like the image — also
// where it held other data before — and the machine then boots what was written.
import "@/test/harness/route-handler";
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { zstdCompressSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getImageVersionRow, updateImageVersionFrom } from "@/db/queries/images";
import { computeBlockMap } from "@/lib/images/block-map";
import { getImageStorage } from "@/lib/images/storage";
import { buildBootableImage } from "@/lab/bootable-image";
import { useTestDb } from "@/test/harness/database";
import { setTestEnvDefaults } from "@/test/harness/env";
import { seedReadyImage, startQemuProvisioningSetup, stopQemuProvisioningSetup, waitFor as waitUntil, type ProvisioningSetup } from "@/test/harness/provisioning";
import { GUEST_KILN_URL, startVm, waitFor, type Vm } from "@/test/harness/qemu";
import { getDeployment } from "./views";
import { startDeployment } from "./start";
import { getNextBoot } from "./next-boot";
import { runWorkerSteps } from "./worker";

const t = await useTestDb();
const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-sparse-deploy-"));
setTestEnvDefaults({ KILN_DATA_DIR: path.join(tmp, "data"), KILN_RAMDISK_DIR: path.join(tmp, "ramdisk") });
const MiB = 1024 * 1024;
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

let setup: ProvisioningSetup;
const vms: Vm[] = [];

beforeAll(async () => {
  setup = await startQemuProvisioningSetup(t.db, { name: "qemu-sparse", macByte: 0xd7, tmp });
}, 600_000);

afterAll(() => stopQemuProvisioningSetup({ setup, vms, tmp }));

describe("a sparse image deployed through its block map", () => {
  it("SeaBIOS + iPXE: the disk's hash equals the image's, only mapped ranges were written, and it boots", async () => {
    const { holder } = setup;
    const { hostId, mac } = await setup.heldHost();
    const marker = `sparse-${Date.now().toString(36)}`;
    // A 96 MiB bootable image: a FAT partition holding a kernel and an initramfs, the rest zero.
    const imgFile = path.join(tmp, "bootable.img");
    await buildBootableImage({ kernelPath: path.join(tmp, "ramdisk", "vmlinuz"), outPath: imgFile, marker, sizeMb: 96 });
    const logical = await fs.readFile(imgFile);
    const img = await seedReadyImage(t.db, { ownerUserId: holder.user!.id, bytes: zstdCompressSync(logical), format: "zstd" });
    // The map verification records, from the stored blob.
    const stored = getImageStorage().localBlobPath((await getImageVersionRow(t.db, { imageId: img.image.id, version: img.version }))!.storageKey!)!;
    const blockMap = (await computeBlockMap(stored, "zstd", img.sha256))!;
    expect(blockMap.imageSizeBytes).toBe(logical.length);
    expect(blockMap.mappedBytes).toBeLessThan(logical.length / 2);
    await updateImageVersionFrom(t.db, { imageId: img.image.id, version: img.version, from: "ready" }, { blockMap });

    // The disk held something else everywhere before: it must read zero wherever the image does.
    const disk = path.join(tmp, "disk.raw");
    await fs.writeFile(disk, Buffer.alloc(128 * MiB, 0xaa));

    const run = await startDeployment(t.db, holder, hostId, { action: "deploy_image", imageId: img.image.id, disk: "vda" });
    await runWorkerSteps(t.db, run.id, "deploy_image", { backoffMs: [] });
    const started = Date.now();
    const vm = await startVm({ mac, kilnPort: setup.server.port, diskPath: disk, memoryMb: 512, bootfile: `${GUEST_KILN_URL}/boot/${mac.replace(/:/g, "-")}` });
    vms.push(vm);
    const view = await waitUntil("the run's end", () => getDeployment(t.db, holder, run.id), (v) => v.state !== "running" && v.state !== "pending", 300_000).catch((e) => {
      throw new Error(`${(e as Error).message}\nserial:\n${vm.serial().slice(-4000)}`);
    });
    console.info(`sparse deploy of ${logical.length} bytes (${blockMap.mappedBytes} mapped, ${blockMap.ranges.length} ranges) done after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(view.state, `${view.failureReason}\n${vm.serial().slice(-3000)}`).toBe("done");
    const lines = view.logs.map((l) => l.line);
    expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(/^zeroed \/dev\/vda without writing it \(fallocate --punch-hole, \d+ s\); writing only the \d+ mapped bytes/)]));
    expect(lines).toContain(`wrote the ${blockMap.mappedBytes} mapped bytes of the ${logical.length}-byte image to /dev/vda (the rest reads zero), its first MiB last; sha256 of the delivered image and of the mapped bytes match`);
    await waitFor(async () => vm.process.exitCode !== null, 60_000, undefined, "the machine to reboot (QEMU to exit)");

    const after = await fs.readFile(disk);
    expect(sha(after.subarray(0, logical.length))).toBe(sha(logical));
    expect(after.subarray(logical.length).equals(Buffer.alloc(after.length - logical.length))).toBe(true);

    expect(await getNextBoot(t.db, holder, hostId)).toEqual({ kind: "disk" });
    const again = await startVm({ mac, kilnPort: setup.server.port, diskPath: disk, bootfile: `${GUEST_KILN_URL}/boot/${mac.replace(/:/g, "-")}` });
    vms.push(again);
    await waitFor(async () => again.serial().includes(`KILN-BOOTED ${marker}`), 120_000, again, "the image's marker on the console");
    await again.stop();
  }, 900_000);
});
