import { describe, expect, it } from "vitest";
import { detectFormat, FORMAT_HEAD_BYTES, UNKNOWN_FORMAT_WARNING, versionWarnings } from "./format";

/** A head of FORMAT_HEAD_BYTES zero bytes with `bytes` written at `offset`. */
function head(...writes: [number, number[] | string][]): Buffer {
  const buf = Buffer.alloc(FORMAT_HEAD_BYTES);
  for (const [offset, bytes] of writes) (typeof bytes === "string" ? Buffer.from(bytes, "latin1") : Buffer.from(bytes)).copy(buf, offset);
  return buf;
}

/** One MBR partition entry: boot flag, type, first LBA, sector count. */
function mbrEntry(flag: number, type: number, start: number, sectors: number): number[] {
  const e = Buffer.alloc(16);
  e[0] = flag;
  e[4] = type;
  e.writeUInt32LE(start, 8);
  e.writeUInt32LE(sectors, 12);
  return [...e];
}

const SIG: [number, number[]] = [510, [0x55, 0xaa]];

describe("detectFormat", () => {
  it("recognises containers by their magic numbers", () => {
    expect(detectFormat(head([0, "QFI\xfb"], [4, [0, 0, 0, 3]]))).toBe("qcow2");
    expect(detectFormat(head([0, [0x1f, 0x8b, 0x08]]))).toBe("gzip");
    expect(detectFormat(head([0, [0x28, 0xb5, 0x2f, 0xfd]]))).toBe("zstd");
    expect(detectFormat(head([0, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]]))).toBe("xz");
  });

  it("recognises an ISO 9660 image by CD001 at 0x8001, even when it also carries an MBR (hybrid ISO)", () => {
    expect(detectFormat(head([0x8000, [1]], [0x8001, "CD001"]))).toBe("iso");
    expect(detectFormat(head([446, mbrEntry(0x80, 0x17, 64, 1000)], SIG, [0x8001, "CD001"]))).toBe("iso");
  });

  it("recognises partitioned raw disks: GPT at LBA 1 (512 or 4096), MBR with a real partition table", () => {
    expect(detectFormat(head([446, mbrEntry(0, 0xee, 1, 0xffffffff)], SIG, [512, "EFI PART"]))).toBe("raw-gpt");
    expect(detectFormat(head([4096, "EFI PART"]))).toBe("raw-gpt");
    expect(detectFormat(head([446, mbrEntry(0x80, 0x83, 2048, 409600)], SIG))).toBe("raw-mbr");
    expect(detectFormat(head([446, [...mbrEntry(0x00, 0x83, 2048, 1000), ...mbrEntry(0x00, 0x82, 4096, 1000)]], SIG))).toBe("raw-mbr");
  });

  it("does not take a boot sector, or 55AA over garbage, for a partition table", () => {
    // A FAT boot sector: jump instruction, code where the table would be, 55AA.
    const fat = head([0, [0xeb, 0x3c, 0x90]], [3, "MSDOS5.0"], [446, Array.from({ length: 64 }, (_, i) => (i * 37) & 0xff)], SIG);
    expect(detectFormat(fat)).toBe("raw");
    // 55AA with an invalid boot flag and no jump: nothing we know.
    expect(detectFormat(head([446, mbrEntry(0x42, 0x83, 2048, 1000)], SIG))).toBe("unknown");
    // 55AA and an all-empty table: no partitions.
    expect(detectFormat(head(SIG))).toBe("unknown");
  });

  it("calls bare filesystem images raw, and anything else unknown", () => {
    expect(detectFormat(head([1080, [0x53, 0xef]]))).toBe("raw");
    expect(detectFormat(head([0, "XFSB"]))).toBe("raw");
    expect(detectFormat(head())).toBe("unknown");
    expect(detectFormat(Buffer.from("hello"))).toBe("unknown");
    expect(detectFormat(Buffer.alloc(0))).toBe("unknown");
  });

  it("never trusts a name: a gzip called disk.img is gzip, a raw disk called x.qcow2 is raw", () => {
    // detectFormat never sees a name; this documents that it needs none.
    expect(detectFormat.length).toBe(1);
  });
});

describe("version warnings", () => {
  it("warn on a ready version of unknown format, and only then", () => {
    expect(versionWarnings({ state: "ready", format: "unknown" })).toEqual([UNKNOWN_FORMAT_WARNING]);
    expect(UNKNOWN_FORMAT_WARNING).toMatch(/^Kiln could not recognise this file as a disk image/);
    expect(versionWarnings({ state: "ready", format: "raw-gpt" })).toEqual([]);
    expect(versionWarnings({ state: "verifying", format: null })).toEqual([]);
  });
});
