import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { gzipSync, zstdCompressSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import type { ImageBlockMap } from "@/db/schema";
import { computeBlockMap, isBlockMapWorthIt, scanBlockMap } from "./block-map";

const KiB = 1024;
const MiB = 1024 * KiB;
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-bmap-"));
afterAll(() => fs.rm(tmp, { recursive: true, force: true }));

/** An image of `size` zero bytes with random data at each [offset, length]. */
function image(size: number, data: [number, number][]): Buffer {
  const b = Buffer.alloc(size);
  for (const [at, n] of data) randomBytes(n).copy(b, at);
  return b;
}

/** Yields the buffer in pieces of `piece` bytes (odd sizes test block boundaries across chunks). */
function pieces(b: Buffer, piece: number): () => AsyncIterable<Buffer> {
  return async function* () {
    for (let i = 0; i < b.length; i += piece) yield b.subarray(i, i + piece);
  };
}

/** The image the map describes: its ranges' bytes from `b`, zeros elsewhere. */
function rebuild(b: Buffer, map: ImageBlockMap): Buffer {
  const out = Buffer.alloc(map.imageSizeBytes);
  for (const r of map.ranges) b.copy(out, r.start, r.start, r.start + r.length);
  return out;
}

function checkMap(b: Buffer, map: ImageBlockMap): void {
  expect(map.imageSizeBytes).toBe(b.length);
  expect(rebuild(b, map).equals(b)).toBe(true);
  for (const r of map.ranges) expect(r.sha256).toBe(sha(b.subarray(r.start, r.start + r.length)));
  expect(map.mappedSha256).toBe(sha(Buffer.concat(map.ranges.map((r) => b.subarray(r.start, r.start + r.length)))));
  expect(map.mappedBytes).toBe(map.ranges.reduce((n, r) => n + r.length, 0));
  for (let i = 1; i < map.ranges.length; i++) expect(map.ranges[i]!.start).toBeGreaterThan(map.ranges[i - 1]!.start + map.ranges[i - 1]!.length);
}

describe("scanBlockMap", () => {
  it("maps the head and each island of data, merges gaps under 1 MiB, and leaves trailing zeros out", async () => {
    // Head (always mapped, even where zero), data at 4 MiB + 8 KiB, a 512 KiB gap (merged),
    // data again, then zeros to 16 MiB; a last island ending in a partial block.
    const b = image(16 * MiB + 1000, [[10, 100], [4 * MiB + 8 * KiB, 100 * KiB], [4 * MiB + 620 * KiB, 4 * KiB], [16 * MiB + 10, 7]]);
    for (const piece of [MiB, 7777, 3 * MiB + 5]) {
      const map = await scanBlockMap(pieces(b, piece), { imageSha256: "x" });
      checkMap(b, map);
      expect(map.ranges.map((r) => [r.start, r.length])).toEqual([
        [0, MiB],
        [4 * MiB + 8 * KiB, 616 * KiB],
        [16 * MiB, 1000],
      ]);
      expect(map).toMatchObject({ v: 1, imageSha256: "x", mappedBytes: MiB + 616 * KiB + 1000 });
    }
  });

  it("maps a whole image of data as one range, and an image shorter than the head as itself", async () => {
    const full = randomBytes(3 * MiB + 3);
    expect((await scanBlockMap(pieces(full, 65536), { imageSha256: "x" })).ranges.map((r) => [r.start, r.length])).toEqual([[0, full.length]]);
    const small = Buffer.alloc(5000);
    const map = await scanBlockMap(pieces(small, 4096), { imageSha256: "x" });
    expect(map.ranges.map((r) => [r.start, r.length])).toEqual([[0, 5000]]);
    checkMap(small, map);
    expect((await scanBlockMap(pieces(Buffer.alloc(0), 1), { imageSha256: "x" })).ranges).toEqual([]);
  });

  it("widens the gap it merges until the map has no more than maxRanges ranges", async () => {
    // Ten islands 2 MiB apart: ten ranges (plus the head) at the default gap.
    const islands: [number, number][] = Array.from({ length: 10 }, (_, i) => [(2 + i * 3) * MiB, 4 * KiB]);
    const b = image(34 * MiB, islands);
    expect((await scanBlockMap(pieces(b, MiB), { imageSha256: "x" })).ranges).toHaveLength(11);
    const capped = await scanBlockMap(pieces(b, MiB), { imageSha256: "x", maxRanges: 4 });
    expect(capped.ranges.length).toBeLessThanOrEqual(4);
    checkMap(b, capped);
  });
});

describe("computeBlockMap", () => {
  it("maps the decompressed bytes of gzip and zstd images; a stream that does not decompress has no map", async () => {
    const b = image(12 * MiB, [[0, 4096], [6 * MiB, MiB]]);
    for (const [format, bytes] of [["raw", b], ["gzip", gzipSync(b)], ["zstd", zstdCompressSync(b)]] as const) {
      const file = path.join(tmp, `img.${format}`);
      await fs.writeFile(file, bytes);
      const map = await computeBlockMap(file, format, sha(bytes));
      expect(map).not.toBeNull();
      checkMap(b, map!);
      expect(map!.imageSha256).toBe(sha(bytes));
      expect(map!.ranges.map((r) => [r.start, r.length])).toEqual([[0, MiB], [6 * MiB, MiB]]);
    }
    const bad = path.join(tmp, "bad.gz");
    await fs.writeFile(bad, Buffer.concat([gzipSync(b).subarray(0, 1000), Buffer.from("not gzip")]));
    expect(await computeBlockMap(bad, "gzip", "x")).toBeNull();
  });
});

describe("isBlockMapWorthIt", () => {
  const map = (mapped: number, size: number, imageSha256 = "s"): ImageBlockMap => ({ v: 1, imageSha256, imageSizeBytes: size, mappedBytes: mapped, mappedSha256: "m", ranges: [{ start: 0, length: mapped, sha256: "r" }] });
  it("uses a map of these bytes that skips at least a quarter of them", () => {
    expect(isBlockMapWorthIt(map(10, 100), "s")).toBe(true);
    expect(isBlockMapWorthIt(map(75, 100), "s")).toBe(true);
    expect(isBlockMapWorthIt(map(76, 100), "s")).toBe(false);
    expect(isBlockMapWorthIt(map(10, 100, "other"), "s")).toBe(false);
    expect(isBlockMapWorthIt(null, "s")).toBe(false);
  });
});
