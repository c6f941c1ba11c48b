// What an image is, from its first bytes (never from its file name). Pure: the worker reads
// the head of the file and asks here.
import type { ImageFormat } from "@/db/schema";

const QCOW2 = Buffer.from([0x51, 0x46, 0x49, 0xfb]);
const GZIP = Buffer.from([0x1f, 0x8b]);
const ZSTD = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
const XZ = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
const ISO_ID = Buffer.from("CD001", "ascii");
const GPT = Buffer.from("EFI PART", "ascii");
const XFS = Buffer.from("XFSB", "ascii");
const BTRFS = Buffer.from("_BHRfS_M", "ascii");

/** How many leading bytes detectFormat looks at (the ISO descriptor lives at 32 KiB + 1). */
export const FORMAT_HEAD_BYTES = 36 * 1024;

function at(buf: Buffer, offset: number, magic: Buffer): boolean {
  return buf.length >= offset + magic.length && buf.subarray(offset, offset + magic.length).equals(magic);
}

function hasBootSignature(buf: Buffer): boolean {
  return buf.length >= 512 && buf[510] === 0x55 && buf[511] === 0xaa;
}

/**
 * A real MBR partition table: four 16-byte entries at 446, each either empty or with a
 * boot flag of 0x00/0x80, a type, and a start and length inside the disk. A FAT or NTFS
 * boot sector also ends in 55AA, but its bytes at 446 are code, which fails these checks.
 */
function hasMbrPartitionTable(buf: Buffer): boolean {
  if (!hasBootSignature(buf)) return false;
  let used = 0;
  for (let i = 0; i < 4; i++) {
    const e = buf.subarray(446 + i * 16, 446 + (i + 1) * 16);
    const flag = e[0]!;
    const type = e[4]!;
    const start = e.readUInt32LE(8);
    const sectors = e.readUInt32LE(12);
    if (type === 0) {
      if (e.some((b) => b !== 0)) return false;
      continue;
    }
    if (flag !== 0x00 && flag !== 0x80) return false;
    if (sectors === 0 || start === 0) return false;
    used++;
  }
  return used > 0;
}

function isBareFilesystem(buf: Buffer): boolean {
  // ext2/3/4: superblock at 1024, magic 0xEF53 at offset 56 of it.
  if (buf.length >= 1082 && buf.readUInt16LE(1080) === 0xef53) return true;
  if (at(buf, 0, XFS) || at(buf, 0x10040, BTRFS)) return true;
  // FAT or NTFS boot sector (jump instruction + 55AA) without a partition table.
  return hasBootSignature(buf) && (buf[0] === 0xeb || buf[0] === 0xe9);
}

/**
 * The format of an image from its first FORMAT_HEAD_BYTES. Compressed and qcow2 containers
 * first (their payload may be anything), then ISO (hybrid ISOs also carry an MBR/GPT for USB
 * sticks, and "iso" is the more useful answer), then partitioned disks, then bare
 * filesystems as plain raw.
 */
export function detectFormat(head: Buffer): ImageFormat {
  if (at(head, 0, QCOW2)) return "qcow2";
  if (at(head, 0, GZIP)) return "gzip";
  if (at(head, 0, ZSTD)) return "zstd";
  if (at(head, 0, XZ)) return "xz";
  if (at(head, 0x8001, ISO_ID)) return "iso";
  // 512-byte sectors put the GPT header at LBA 1 = 512; 4Kn disks at 4096.
  if (at(head, 512, GPT) || at(head, 4096, GPT)) return "raw-gpt";
  if (hasMbrPartitionTable(head)) return "raw-mbr";
  if (isBareFilesystem(head)) return "raw";
  return "unknown";
}

/** Shown on a ready version (and in the API's `warnings`) whose bytes Kiln did not recognise. */
export const UNKNOWN_FORMAT_WARNING =
  "Kiln could not recognise this file as a disk image: its first bytes hold no partition table, filesystem, ISO 9660, qcow2 or gzip/zstd/xz header. Deploying it writes these bytes to the disk as they are, which will most likely not boot. Check that this is the file you meant to upload.";

/**
 * What a person should know about a version before deploying it. A version whose format is
 * unknown is still made ready (a raw image with an exotic layout is legitimate), but says so.
 */
export function versionWarnings(v: { state: string; format: ImageFormat | null }): string[] {
  return v.state === "ready" && v.format === "unknown" ? [UNKNOWN_FORMAT_WARNING] : [];
}
