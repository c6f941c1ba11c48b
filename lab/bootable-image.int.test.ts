// The lab's bootable test image, checked from outside: its partition table read byte by
// byte, its files listed with mtools, two builds compared, and a real SeaBIOS boot from it.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startVm, waitFor } from "@/test/harness/qemu";
import { ensureTestKernel } from "@/test/harness/kernel";
import { buildBootableImage, compressImage, SYSLINUX_MBR, type ImageFile } from "./bootable-image";
import { getProcessEnv } from "@/lib/env";

const execFileAsync = promisify(execFile);

let dir: string;
let kernelPath: string;
let image: ImageFile;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-image-test-"));
  kernelPath = (await ensureTestKernel()).path;
  image = await buildBootableImage({ kernelPath, outPath: path.join(dir, "a.img"), marker: "int-test-1" });
});

afterAll(async () => {
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

describe("buildBootableImage", () => {
  it("writes an MBR with one active 0xEF partition from 1 MiB to the end, holding a FAT16 file system with both loaders", async () => {
    expect(image.sizeBytes).toBe(32 * 1024 * 1024);
    const bytes = readFileSync(image.path);
    expect(bytes.length).toBe(image.sizeBytes);
    const mbr = bytes.subarray(0, 512);
    expect(mbr.readUInt16LE(510)).toBe(0xaa55);
    expect(mbr.subarray(0, 440).equals(readFileSync(SYSLINUX_MBR).subarray(0, 440))).toBe(true);
    const entry = (i: number) => mbr.subarray(446 + 16 * i, 446 + 16 * (i + 1));
    expect(entry(0)[0]).toBe(0x80);
    expect(entry(0)[4]).toBe(0xef);
    expect(entry(0).readUInt32LE(8)).toBe(2048);
    expect(entry(0).readUInt32LE(12)).toBe(bytes.length / 512 - 2048);
    for (const i of [1, 2, 3]) expect(entry(i).every((b) => b === 0)).toBe(true);

    const vbr = bytes.subarray(2048 * 512, 2049 * 512);
    expect(vbr.readUInt16LE(510)).toBe(0xaa55);
    expect(vbr.toString("ascii", 3, 11)).toBe("SYSLINUX");
    expect(vbr.toString("ascii", 54, 62)).toBe("FAT16   ");
    expect(vbr.readUInt32LE(28)).toBe(2048); // hidden sectors: where the partition starts

    const { stdout } = await execFileAsync("mdir", ["-i", `${image.path}@@1048576`, "-/", "-a", "-b", "::/"], { env: { ...getProcessEnv(), MTOOLS_SKIP_CHECK: "1" } });
    const files = stdout.split("\n").filter(Boolean).map((f) => f.replace(/^::/, "").toLowerCase());
    for (const f of ["/ldlinux.sys", "/ldlinux.c32", "/syslinux.cfg", "/vmlinuz", "/initrd.img", "/efi/boot/bootx64.efi", "/loader/loader.conf", "/loader/entries/kiln.conf"]) {
      expect(files).toContain(f);
    }
  });

  it("gives the same bytes for the same inputs, and other bytes for another marker", async () => {
    const again = await buildBootableImage({ kernelPath, outPath: path.join(dir, "b.img"), marker: "int-test-1" });
    expect(again.sha256).toBe(image.sha256);
    const other = await buildBootableImage({ kernelPath, outPath: path.join(dir, "c.img"), marker: "int-test-2" });
    expect(other.sha256).not.toBe(image.sha256);
  });

  it("compresses to .gz and .zst that unpack to the image", async () => {
    for (const [format, unpack] of [["gz", ["gzip", "-dc"]], ["zst", ["zstd", "-dcq"]]] as const) {
      const packed = await compressImage(image.path, format);
      expect(packed.path).toBe(`${image.path}.${format}`);
      expect(packed.sizeBytes).toBeLessThan(image.sizeBytes / 2);
      const { stdout } = await execFileAsync(unpack[0], [unpack[1], packed.path], { encoding: "buffer", maxBuffer: 64 * 1024 * 1024 });
      expect(stdout.equals(readFileSync(image.path))).toBe(true);
    }
  });

  it("boots from its disk under SeaBIOS: syslinux starts the kernel, /init prints the marker and powers off", async () => {
    const disk = path.join(dir, "boot.img");
    await fs.copyFile(image.path, disk);
    const vm = await startVm({ mac: "52:54:00:4b:49:61", diskPath: disk, bootFirst: "disk" });
    try {
      await waitFor(async () => /KILN-BOOTED int-test-1\r?\n/.test(vm.serial()), 45_000, vm, "the marker on the serial console");
      expect(vm.serial()).toMatch(/SYSLINUX 6\.\d+/);
      expect(vm.serial()).toMatch(/KILN-FIRMWARE bios/);
      // poweroff -f ends QEMU by itself: the image's userspace ran to its end.
      await waitFor(async () => vm.process.exitCode !== null || vm.process.signalCode !== null, 15_000, undefined, "QEMU to exit after poweroff");
      expect(vm.process.exitCode).toBe(0);
    } finally {
      await vm.stop();
    }
  }, 70_000);
});
