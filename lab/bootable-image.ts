// A small disk image that boots a given Debian kernel on its own, under SeaBIOS and under
// UEFI (OVMF), and says so on the serial console: what Kiln's end-to-end tests deploy to a
// lab machine before watching it boot from its disk.
//
// Built from Debian packages without loop mounts or root: a hand-written MBR (syslinux's
// mbr.bin as boot code), one FAT16 partition made with mkfs.fat --offset and filled with
// mtools, syslinux installed into it through its mtools installer (BIOS), and systemd-boot
// as the removable-media loader EFI/BOOT/BOOTX64.EFI (UEFI). Both loaders start the same
// kernel and initramfs from the partition's root.
//
// Layout, and why: one partition of type 0xEF (EFI system partition), marked active.
// SeaBIOS → mbr.bin only looks for the active flag, never at the type; OVMF mounts a FAT
// partition whatever its MBR type, but 0xEF is what the UEFI specification names for an
// ESP on an MBR disk, and real firmware that is stricter than OVMF looks for it.
import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, existsSync, readFileSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { getProcessEnv } from "@/lib/env";

const execFileAsync = promisify(execFile);

export const SYSLINUX_MBR = "/usr/lib/syslinux/mbr/mbr.bin";
export const SYSTEMD_BOOT_EFI = "/usr/lib/systemd/boot/efi/systemd-bootx64.efi";
export const BUSYBOX_CANDIDATES = ["/bin/busybox", "/usr/bin/busybox"];

export const DEFAULT_CMDLINE = "console=ttyS0,115200 panic=-1";
export const DEFAULT_IMAGE_SIZE_MB = 32;
/** The one partition starts at 1 MiB, as partitioning tools align it. */
export const PARTITION_START_SECTOR = 2048;
export const PARTITION_TYPE_ESP = 0xef;
/** Printed by the image's /init on the serial console, followed by a space and the marker. */
export const BOOTED_PREFIX = "KILN-BOOTED";

const SECTOR = 512;
/** Every timestamp inside the image (FAT entries, cpio headers): 2024-01-01T00:00:00Z. */
const FIXED_EPOCH = 1_704_067_200;
/** Markers reach a shell script and a kernel-visible file: a closed alphabet keeps them inert. */
const MARKER_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;

export type BootableImageOptions = {
  /** A Debian vmlinuz (bzImage with an EFI stub, as linux-image-amd64 ships it). */
  kernelPath: string;
  outPath: string;
  /** Printed as `KILN-BOOTED <marker>` once the image's own userspace runs. */
  marker: string;
  sizeMb?: number;
  /** The whole kernel command line; keep `console=ttyS0,115200` for the marker to reach the serial log. */
  cmdline?: string;
};

export type ImageFile = { path: string; sizeBytes: number; sha256: string };

/**
 * Builds the image at `outPath` (written beside it, then renamed into place). The same
 * kernel, marker, size and command line give the same bytes: FAT volume id and disk
 * signature derive from the marker, and every timestamp is fixed.
 */
export async function buildBootableImage(opts: BootableImageOptions): Promise<ImageFile> {
  if (!MARKER_PATTERN.test(opts.marker)) throw new Error(`marker must match ${MARKER_PATTERN}: ${JSON.stringify(opts.marker)}`);
  const cmdline = opts.cmdline ?? DEFAULT_CMDLINE;
  if (/[\n\r"]/.test(cmdline)) throw new Error("cmdline must be one line without double quotes");
  const sizeMb = opts.sizeMb ?? DEFAULT_IMAGE_SIZE_MB;
  if (!Number.isInteger(sizeMb) || sizeMb < 8 || sizeMb > 2048) throw new Error(`sizeMb must be an integer between 8 and 2048, not ${sizeMb}`);
  for (const file of [SYSLINUX_MBR, SYSTEMD_BOOT_EFI]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run \`bash scripts/ensure-deps.sh\` (syslinux-common, systemd-boot-efi)`);
  }
  const kernel = await fs.stat(opts.kernelPath).catch(() => null);
  if (!kernel?.isFile()) throw new Error(`kernel not found: ${opts.kernelPath}`);

  const work = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-image-"));
  const tmpImage = `${opts.outPath}.${process.pid}.partial`;
  try {
    const initrd = buildInitramfs(opts.marker);
    const sizeBytes = sizeMb * 1024 * 1024;
    const partitionSectors = sizeBytes / SECTOR - PARTITION_START_SECTOR;
    // FAT16 tables, root directory, syslinux and systemd-boot: well under a MiB together.
    const needed = kernel.size + initrd.length + 1024 * 1024;
    if (needed > partitionSectors * SECTOR) {
      throw new Error(`${sizeMb} MB is too small for a ${Math.ceil(kernel.size / 1048576)} MB kernel and its initramfs; try ${Math.ceil((needed + PARTITION_START_SECTOR * SECTOR) / 1048576) + 1}`);
    }
    const ids = createHash("sha256").update(`kiln-image:${opts.marker}`).digest();

    const files: Record<string, string | Buffer> = {
      "initrd.img": initrd,
      "syslinux.cfg": syslinuxConfig(cmdline),
      "loader.conf": "default kiln.conf\ntimeout 0\nconsole-mode keep\neditor no\n",
      "kiln.conf": `title Kiln test image ${opts.marker}\nlinux /vmlinuz\ninitrd /initrd.img\noptions ${cmdline}\n`,
    };
    for (const [name, body] of Object.entries(files)) await fs.writeFile(path.join(work, name), body);

    const fd = await fs.open(tmpImage, "w");
    try {
      await fd.truncate(sizeBytes);
      await fd.write(masterBootRecord(await fs.readFile(SYSLINUX_MBR), ids.readUInt32LE(0), partitionSectors), 0, SECTOR, 0);
    } finally {
      await fd.close();
    }

    const offsetBytes = PARTITION_START_SECTOR * SECTOR;
    await run(mkfsFat(), [
      "--invariant",
      "-i", ids.subarray(4, 8).toString("hex"),
      "-n", "KILN",
      "-F", "16",
      "-g", "255/63",
      "-h", String(PARTITION_START_SECTOR),
      "-D", "0x80",
      `--offset=${PARTITION_START_SECTOR}`,
      tmpImage,
      String((partitionSectors * SECTOR) / 1024),
    ]);
    // First, so that ldlinux.sys gets the first clusters of an empty file system.
    await run("syslinux", ["--offset", String(offsetBytes), "--install", tmpImage]);

    const image = `${tmpImage}@@${offsetBytes}`;
    await run("mmd", ["-i", image, "::/EFI", "::/EFI/BOOT", "::/loader", "::/loader/entries"]);
    await run("mcopy", ["-i", image, opts.kernelPath, "::/vmlinuz"]);
    await run("mcopy", ["-i", image, path.join(work, "initrd.img"), "::/initrd.img"]);
    await run("mcopy", ["-i", image, path.join(work, "syslinux.cfg"), "::/syslinux.cfg"]);
    await run("mcopy", ["-i", image, SYSTEMD_BOOT_EFI, "::/EFI/BOOT/BOOTX64.EFI"]);
    await run("mcopy", ["-i", image, path.join(work, "loader.conf"), "::/loader/loader.conf"]);
    await run("mcopy", ["-i", image, path.join(work, "kiln.conf"), "::/loader/entries/kiln.conf"]);

    await fs.rename(tmpImage, opts.outPath);
    return { path: opts.outPath, sizeBytes, sha256: await sha256File(opts.outPath) };
  } finally {
    await fs.rm(tmpImage, { force: true });
    await fs.rm(work, { recursive: true, force: true });
  }
}

/**
 * Adds to the FAT partition of an image buildBootableImage wrote: `dirs` made first, then each
 * [host file, partition path] copied, replacing a file already there (tests that put another
 * loader on its ESP).
 */
export async function copyIntoImage(imagePath: string, p: { dirs?: string[]; files: [from: string, to: string][] }): Promise<void> {
  const image = `${imagePath}@@${PARTITION_START_SECTOR * SECTOR}`;
  if (p.dirs?.length) await run("mmd", ["-i", image, ...p.dirs]);
  for (const [from, to] of p.files) await run("mcopy", ["-o", "-i", image, from, to]);
}

export type CompressionFormat = "gz" | "zst";

/**
 * Writes `<imagePath>.gz` (gzip -n: no name or time in the header) or `<imagePath>.zst`
 * (zstd CLI), leaving the image in place; same input, same bytes.
 */
export async function compressImage(imagePath: string, format: CompressionFormat, outPath = `${imagePath}.${format}`): Promise<ImageFile> {
  const tmp = `${outPath}.${process.pid}.partial`;
  try {
    if (format === "gz") {
      const out = await fs.open(tmp, "w");
      try {
        await new Promise<void>((resolve, reject) => {
          const child = spawn("gzip", ["-n", "-6", "-c", imagePath], { stdio: ["ignore", out.fd, "pipe"] });
          let stderr = "";
          child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
          child.once("error", reject);
          child.once("close", (code) => (code === 0 ? resolve() : reject(new Error(`gzip ${imagePath} failed (${code}): ${stderr.trim()}`))));
        });
      } finally {
        await out.close();
      }
    } else {
      await run("zstd", ["-q", "-f", "-3", "--no-progress", imagePath, "-o", tmp]);
    }
    await fs.rename(tmp, outPath);
  } finally {
    await fs.rm(tmp, { force: true });
  }
  const { size } = await fs.stat(outPath);
  return { path: outPath, sizeBytes: size, sha256: await sha256File(outPath) };
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(file), hash);
  return hash.digest("hex");
}

/**
 * The image's initramfs: static busybox and an /init that prints the marker and powers off.
 * A cpio written here rather than by `cpio`, so it can hold /dev/console (the kernel opens
 * it for init's output, and mknod would need root) and carries fixed inodes and times.
 */
export function buildInitramfs(marker: string): Buffer {
  if (!MARKER_PATTERN.test(marker)) throw new Error(`marker must match ${MARKER_PATTERN}`);
  const busybox = BUSYBOX_CANDIDATES.find((p) => existsSync(p));
  if (!busybox) throw new Error("busybox is missing: run `bash scripts/ensure-deps.sh` (it installs busybox-static)");
  const init = [
    "#!/bin/busybox sh",
    "export PATH=/bin",
    "/bin/busybox mount -t sysfs sysfs /sys 2>/dev/null",
    "firmware=bios; [ -d /sys/firmware/efi ] && firmware=uefi",
    // Own lines, so that kernel messages interleaved on the console cannot split the marker.
    `echo; echo "${BOOTED_PREFIX} ${marker}"; echo "KILN-FIRMWARE $firmware"`,
    "/bin/busybox sleep 1",
    "/bin/busybox poweroff -f",
    "",
  ].join("\n");
  const archive = cpioNewc([
    { name: "bin", mode: 0o040755 },
    { name: "bin/busybox", mode: 0o100755, data: readFileSync(busybox) },
    { name: "dev", mode: 0o040755 },
    { name: "dev/console", mode: 0o020600, rdev: [5, 1] },
    { name: "init", mode: 0o100755, data: Buffer.from(init) },
    { name: "proc", mode: 0o040755 },
    { name: "sys", mode: 0o040755 },
  ]);
  // Node's gzip header carries no name and mtime 0.
  return gzipSync(archive, { level: 9 });
}

type CpioEntry = { name: string; mode: number; data?: Buffer; rdev?: [number, number] };

/** cpio "newc" (070701), the format the kernel unpacks as initramfs. */
export function cpioNewc(entries: CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  const pad4 = (n: number) => Buffer.alloc((4 - (n % 4)) % 4);
  const hex = (n: number) => n.toString(16).padStart(8, "0");
  const add = (ino: number, e: CpioEntry) => {
    const data = e.data ?? Buffer.alloc(0);
    const name = Buffer.from(`${e.name}\0`);
    const isDir = (e.mode & 0o170000) === 0o040000;
    const fields = [ino, e.mode, 0, 0, isDir ? 2 : 1, FIXED_EPOCH, data.length, 0, 0, e.rdev?.[0] ?? 0, e.rdev?.[1] ?? 0, name.length, 0];
    const header = Buffer.from(`070701${fields.map(hex).join("")}`, "ascii");
    parts.push(header, name, pad4(header.length + name.length), data, pad4(data.length));
  };
  entries.forEach((e, i) => add(i + 1, e));
  add(0, { name: "TRAILER!!!", mode: 0 });
  return Buffer.concat(parts);
}

/**
 * Sector 0: boot code (syslinux's mbr.bin chains to the active partition's boot sector),
 * disk signature, and one active partition from PARTITION_START_SECTOR to the end.
 */
export function masterBootRecord(bootCode: Buffer, diskSignature: number, partitionSectors: number): Buffer {
  if (bootCode.length > 440) throw new Error(`MBR boot code is ${bootCode.length} bytes; at most 440 fit`);
  const mbr = Buffer.alloc(SECTOR);
  bootCode.copy(mbr, 0);
  mbr.writeUInt32LE(diskSignature >>> 0, 440);
  const entry = 446;
  mbr[entry] = 0x80;
  chs(PARTITION_START_SECTOR).copy(mbr, entry + 1);
  mbr[entry + 4] = PARTITION_TYPE_ESP;
  chs(PARTITION_START_SECTOR + partitionSectors - 1).copy(mbr, entry + 5);
  mbr.writeUInt32LE(PARTITION_START_SECTOR, entry + 8);
  mbr.writeUInt32LE(partitionSectors, entry + 12);
  mbr[510] = 0x55;
  mbr[511] = 0xaa;
  return mbr;
}

/** CHS of an LBA in the 255-head, 63-sector geometry mkfs.fat is told about; 1023/254/63 past its reach. */
function chs(lba: number): Buffer {
  const heads = 255;
  const sectors = 63;
  let c = Math.floor(lba / (heads * sectors));
  let h = Math.floor(lba / sectors) % heads;
  let s = (lba % sectors) + 1;
  if (c > 1023) [c, h, s] = [1023, 254, 63];
  return Buffer.from([h, s | ((c >> 2) & 0xc0), c & 0xff]);
}

function syslinuxConfig(cmdline: string): string {
  return ["SERIAL 0 115200", "DEFAULT kiln", "PROMPT 0", "TIMEOUT 0", "LABEL kiln", "  LINUX /vmlinuz", "  INITRD /initrd.img", `  APPEND ${cmdline}`, ""].join("\n");
}

function mkfsFat(): string {
  for (const p of ["/usr/sbin/mkfs.fat", "/sbin/mkfs.fat"]) if (existsSync(p)) return p;
  return "mkfs.fat";
}

async function run(cmd: string, args: string[]): Promise<void> {
  try {
    await execFileAsync(cmd, args, {
      env: {
        ...getProcessEnv(),
        PATH: `${getProcessEnv().PATH ?? ""}:/usr/sbin:/sbin`,
        // mtools (and syslinux's installer, which calls it) date entries from SOURCE_DATE_EPOCH;
        // FAT times are local, so the zone is pinned too. No user ~/.mtoolsrc.
        SOURCE_DATE_EPOCH: String(FIXED_EPOCH),
        TZ: "UTC",
        MTOOLSRC: "/dev/null",
        MTOOLS_SKIP_CHECK: "1",
        HOME: os.tmpdir(),
      },
    });
  } catch (e) {
    const err = e as { stderr?: string; code?: string | number };
    if (err.code === "ENOENT") throw new Error(`${cmd} is missing: run \`bash scripts/ensure-deps.sh\` (mtools, dosfstools, syslinux, gzip, zstd)`);
    throw new Error(`${cmd} ${args.join(" ")} failed: ${err.stderr?.trim() || String(e)}`);
  }
}
