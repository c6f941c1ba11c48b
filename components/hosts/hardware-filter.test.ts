import { describe, expect, it } from "vitest";
import { describeDisks, diskKind, hostListQueryOf } from "./hardware-filter";

describe("the host list's hardware filters", () => {
  it("turns GB of memory and Gb/s into the API's MB and Mb/s, leaving the rest", () => {
    expect(hostListQueryOf({ minMemoryGb: "64", minNicSpeedGbps: "2.5", minCores: "16", diskType: "ssd" })).toEqual({ minMemoryMb: "65536", minNicSpeedMbps: "2500", minCores: "16", diskType: "ssd" });
    // Not a number: passed on, so the API refuses it by name.
    expect(hostListQueryOf({ minMemoryGb: "lots" })).toEqual({ minMemoryMb: "lots" });
    expect(hostListQueryOf({ q: "node" })).toEqual({ q: "node" });
  });

  it("reads a disk's kind as the allocation does: type, else nvme* name, else rotational flag", () => {
    expect(diskKind({ name: "sda", type: "ssd", rotational: true })).toBe("ssd");
    expect(diskKind({ name: "nvme0n1" })).toBe("nvme");
    expect(diskKind({ name: "sdb", rotational: true })).toBe("hdd");
    expect(diskKind({ name: "sdc", rotational: false })).toBe("ssd");
    expect(diskKind({ name: "vda" })).toBeNull();
    expect(describeDisks([{ name: "nvme0n1", sizeBytes: 1e12 }, { name: "sda", sizeBytes: 4e12, rotational: true }, { name: "vda", sizeBytes: 480e9 }, { name: "x" }])).toBe("NVMe 1 TB, HDD 4 TB, disk 480 GB, disk");
    expect(describeDisks([])).toBeNull();
  });
});
