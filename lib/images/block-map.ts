// The block map of an image version (as bmaptool's): which ranges of the logical image — the
// bytes that land on the disk, after decompression — hold data. Recorded at verification; the
// deploy agent zeroes the disk in one request and writes only these ranges (docs/images.md).
import { spawn } from "node:child_process";
import { createHash, type Hash } from "node:crypto";
import fs from "node:fs";
import type { Readable } from "node:stream";
import zlib from "node:zlib";
import type { ImageBlockMap, ImageFormat } from "@/db/schema";
import { getLogger } from "../log";

const KiB = 1024;
const MiB = 1024 * KiB;
/** Zero detection granularity: a filesystem's block. */
export const BLOCK_BYTES = 4 * KiB;
/**
 * Always mapped: the partition table, boot sector and GPT header live here, and the agent
 * keeps exactly this much in RAM to write last (a disk whose write failed must not boot).
 */
export const HEAD_BYTES = MiB;
/** Zeros between data shorter than this are written with it: a skip costs the agent processes. */
export const MIN_GAP_BYTES = MiB;
/** The agent runs a few processes per range; a map with more ranges is rescanned with wider gaps. */
export const MAX_RANGES = 256;

const ZERO_BLOCK = Buffer.alloc(BLOCK_BYTES);
const ZERO_CHUNK = Buffer.alloc(MiB);

type OpenRange = { start: number; end: number; hash: Hash };

/**
 * Scans the logical image once. A range stays open across zeros until MIN_GAP of them follow
 * its last data, so gap zeros it swallows are hashed with it, and every range's sha256 is of
 * exactly the bytes between its start and end.
 */
async function scanOnce(source: AsyncIterable<Buffer>, minGap: number, maxRanges: number): Promise<Omit<ImageBlockMap, "v" | "imageSha256"> | null> {
  const ranges: ImageBlockMap["ranges"] = [];
  const mapped = createHash("sha256");
  let open: OpenRange | null = null;
  let pos = 0;
  let pending = Buffer.alloc(0);

  const feedZeros = (r: OpenRange, n: number) => {
    for (let left = n; left > 0; left -= ZERO_CHUNK.length) {
      const z = left >= ZERO_CHUNK.length ? ZERO_CHUNK : ZERO_CHUNK.subarray(0, left);
      r.hash.update(z);
      mapped.update(z);
    }
  };
  const close = (r: OpenRange) => {
    ranges.push({ start: r.start, length: r.end - r.start, sha256: r.hash.digest("hex") });
  };
  // One piece at `pos`: all zero (outside the head) or data.
  const piece = (buf: Buffer, zero: boolean): boolean => {
    const at = pos;
    pos += buf.length;
    if (zero) {
      if (open && pos - open.end >= minGap) {
        close(open);
        open = null;
        if (ranges.length > maxRanges) return false;
      }
      return true;
    }
    if (!open) open = { start: at, end: at, hash: createHash("sha256") };
    if (at > open.end) feedZeros(open, at - open.end);
    open.hash.update(buf);
    mapped.update(buf);
    open.end = pos;
    return true;
  };
  const chunk = (buf: Buffer): boolean => {
    if (pos >= HEAD_BYTES && buf.length === ZERO_CHUNK.length && buf.equals(ZERO_CHUNK)) return piece(buf, true);
    for (let i = 0; i < buf.length; i += BLOCK_BYTES) {
      const b = buf.subarray(i, i + BLOCK_BYTES);
      const zero = pos >= HEAD_BYTES && (b.length === BLOCK_BYTES ? b.equals(ZERO_BLOCK) : b.equals(ZERO_BLOCK.subarray(0, b.length)));
      if (!piece(b, zero)) return false;
    }
    return true;
  };

  for await (const data of source) {
    const buf = pending.length ? Buffer.concat([pending, data]) : data;
    // Whole MiB pieces, so block boundaries stay at multiples of BLOCK_BYTES from the start.
    const whole = buf.length - (buf.length % MiB);
    for (let i = 0; i < whole; i += MiB) if (!chunk(buf.subarray(i, i + MiB))) return null;
    pending = Buffer.from(buf.subarray(whole));
  }
  if (pending.length && !chunk(pending)) return null;
  if (open) close(open);
  if (ranges.length > maxRanges) return null;
  return { imageSizeBytes: pos, mappedBytes: ranges.reduce((n, r) => n + r.length, 0), mappedSha256: mapped.digest("hex"), ranges };
}

/**
 * The block map of the logical image `open()` yields (called again for a rescan). More than
 * `maxRanges` ranges: scanned again with four times the gap, until it fits.
 */
export async function scanBlockMap(open: () => AsyncIterable<Buffer>, p: { imageSha256: string; minGap?: number; maxRanges?: number }): Promise<ImageBlockMap> {
  const maxRanges = p.maxRanges ?? MAX_RANGES;
  for (let gap = p.minGap ?? MIN_GAP_BYTES; ; gap *= 4) {
    const found = await scanOnce(open(), gap, maxRanges);
    if (found) return { v: 1, imageSha256: p.imageSha256, ...found };
  }
}

/** The logical image of a stored file: decompressed for gzip, zstd and xz, else the file's bytes. */
export function openLogicalImage(file: string, format: ImageFormat): Readable {
  const raw = fs.createReadStream(file, { highWaterMark: 4 * MiB });
  switch (format) {
    case "gzip":
      return raw.pipe(zlib.createGunzip({ chunkSize: MiB }));
    case "zstd":
      return raw.pipe(zlib.createZstdDecompress({ chunkSize: MiB }));
    case "xz": {
      raw.destroy();
      const xz = spawn("xz", ["-dc", "--", file], { stdio: ["ignore", "pipe", "ignore"] });
      return xz.stdout;
    }
    default:
      return raw;
  }
}

/**
 * The block map of a stored image version, or null when its logical bytes cannot be read
 * (a compressed stream that does not decompress): such a version deploys by writing every
 * byte, and its deploy fails on the decompression as it always did.
 */
export async function computeBlockMap(file: string, format: ImageFormat, imageSha256: string): Promise<ImageBlockMap | null> {
  try {
    return await scanBlockMap(() => openLogicalImage(file, format), { imageSha256 });
  } catch (e) {
    getLogger("images").warn({ file, format, err: (e as Error).message }, "no block map: the image's logical bytes could not be read");
    return null;
  }
}

/**
 * Whether a deploy should use the map: it must belong to these bytes, and skip at least a
 * quarter of them — zeroing the disk first and a few processes per range cost more than they
 * save on an image that is nearly all data.
 */
export function isBlockMapWorthIt(map: ImageBlockMap | null | undefined, sha256: string | null): map is ImageBlockMap {
  return !!map && map.v === 1 && map.imageSha256 === sha256 && map.ranges.length > 0 && map.mappedBytes * 4 <= map.imageSizeBytes * 3;
}
