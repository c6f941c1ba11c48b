import { describe, expect, it } from "vitest";
import { agentInventorySchema } from "../validation/deployments";
import { diffFacts } from "./facts-diff";
import { diskTypeOf, factsFromInventory, snapshotOf, summarizeFacts } from "./facts";

const AT = new Date("2026-12-03T08:00:00Z");

describe("diskTypeOf", () => {
  it("nvme by name whatever the flag; otherwise the rotational flag; unknown without one", () => {
    expect(diskTypeOf("nvme0n1", true)).toBe("nvme");
    expect(diskTypeOf("sda", true)).toBe("hdd");
    expect(diskTypeOf("sdb", false)).toBe("ssd");
    expect(diskTypeOf("vda", undefined)).toBeUndefined();
    expect(diskTypeOf("nvmefoo", false)).toBe("ssd");
  });
});

describe("factsFromInventory", () => {
  it("an agent from before commissioning (cores, memory, disks, NICs, flat facts) still parses and keeps what commissioning found", () => {
    const old = agentInventorySchema.parse({ cpuCores: 4, memoryMb: 2048, disks: [{ name: "sda", sizeBytes: 10, serial: "X1  ", model: " M ", rotational: true }], nics: [{ mac: "52:54:00:00:00:01", name: "eth0", link: true, addresses: ["10.0.0.2/24"] }], facts: { vendor: "Dell" } });
    const previous = { cpu: { model: "EPYC 7302", threads: 4 }, firmware: "uefi", bmc: { address: "10.1.0.9" }, commissionedAt: "2026-12-01T00:00:00.000Z" };
    const r = factsFromInventory(old, previous, { at: AT, commissioned: false });
    expect(r.disks).toEqual([{ name: "sda", sizeBytes: 10, serial: "X1", model: "M", rotational: true, type: "hdd" }]);
    expect(r.facts).toEqual({ ...previous, vendor: "Dell", nics: [{ mac: "52:54:00:00:00:01", name: "eth0", link: true }] });
  });

  it("a commissioning report fills the contract (cpu, nics with driver and speed, dmi, firmware, bmc, commissionedAt) and drops empty strings", () => {
    const inv = agentInventorySchema.parse({
      cpuCores: 8,
      memoryMb: 65536,
      cpu: { model: " Intel(R) Xeon(R) Gold 6230 ", vendor: "GenuineIntel", cores: 4, sockets: 1 },
      nics: [{ mac: "52:54:00:00:00:02", name: "eno1", driver: "ixgbe", speedMbps: 10000, link: true }],
      dmi: { vendor: "Dell Inc.", product: "PowerEdge R640", serial: "", boardName: "0W23H8" },
      firmware: "uefi",
      bmc: { address: "10.1.0.5", mac: "aa:bb:cc:dd:ee:ff" },
    });
    const r = factsFromInventory(inv, { nics: [{ mac: "old" }], bmc: { address: "10.9.9.9" } }, { at: AT, commissioned: true });
    expect(r.facts).toEqual({
      cpu: { model: "Intel(R) Xeon(R) Gold 6230", vendor: "GenuineIntel", threads: 8, cores: 4, sockets: 1 },
      nics: [{ mac: "52:54:00:00:00:02", name: "eno1", driver: "ixgbe", speedMbps: 10000, link: true }],
      dmi: { vendor: "Dell Inc.", product: "PowerEdge R640", boardName: "0W23H8" },
      firmware: "uefi",
      bmc: { address: "10.1.0.5", mac: "aa:bb:cc:dd:ee:ff" },
      commissionedAt: AT.toISOString(),
    });
    // null: ipmitool looked and found no BMC, which replaces an older address.
    expect(factsFromInventory(agentInventorySchema.parse({ bmc: null }), { bmc: { address: "10.1.0.5" } }, { at: AT, commissioned: true }).facts.bmc).toBeNull();
  });

  it("refuses what is not an inventory: a firmware other than bios/uefi, a NIC without a MAC", () => {
    expect(agentInventorySchema.safeParse({ firmware: "coreboot" }).success).toBe(false);
    expect(agentInventorySchema.safeParse({ nics: [{ name: "eth0" }] }).success).toBe(false);
    expect(agentInventorySchema.safeParse({ cpu: { threads: 0 } }).success).toBe(false);
  });

  it("summarizes a snapshot in one line", () => {
    const s = snapshotOf({ cpuCores: 2, memoryMb: 1024, disks: [{ name: "vda", sizeBytes: 8e9, type: "hdd" }], facts: { cpu: { model: "QEMU" }, nics: [{ mac: "m", name: "eth0" }], firmware: "bios", bmc: null } });
    expect(summarizeFacts(s)).toBe("2 cores (QEMU), 1024 MB memory, disks vda 8 GB hdd, 1 NICs, BIOS");
  });
});

describe("diffFacts", () => {
  const base = snapshotOf({
    cpuCores: 8,
    memoryMb: 32768,
    disks: [
      { name: "sda", sizeBytes: 480e9, serial: "A", model: "SSD 1", type: "ssd" },
      { name: "sdb", sizeBytes: 4e12, serial: "B", model: "HDD 4T", type: "hdd" },
    ],
    facts: { cpu: { model: "Xeon", threads: 8 }, nics: [{ mac: "m1", name: "eno1", driver: "ixgbe", speedMbps: 10000, link: true }], dmi: { vendor: "Dell", serial: "S1" }, firmware: "bios", bmc: { address: "10.1.0.5" } },
  });

  it("nothing changed: no changes (disk order and key order do not matter)", () => {
    const same = { ...base, disks: [...base.disks].reverse(), facts: { ...base.facts, dmi: { serial: "S1", vendor: "Dell" } } };
    expect(diffFacts(base, same)).toEqual([]);
  });

  it("memory, a disk swapped (by serial, though it kept the name), a NIC's link, firmware, BMC, DMI serial", () => {
    const next = snapshotOf({
      cpuCores: 8,
      memoryMb: 65536,
      disks: [
        { name: "sda", sizeBytes: 480e9, serial: "A", model: "SSD 1", type: "ssd" },
        { name: "sdb", sizeBytes: 8e12, serial: "C", model: "HDD 8T", type: "hdd" },
      ],
      facts: { cpu: { model: "Xeon", threads: 8 }, nics: [{ mac: "m1", name: "eno1", driver: "ixgbe", speedMbps: 10000, link: false }, { mac: "m2", name: "eno2", driver: "ixgbe" }], dmi: { vendor: "Dell", serial: "S2" }, firmware: "uefi", bmc: null },
    });
    expect(diffFacts(base, next)).toEqual([
      { kind: "changed", what: "memory (MB)", before: "32768", after: "65536" },
      { kind: "removed", what: "disk sdb", before: "sdb, 4000 GB, hdd, HDD 4T, serial B", after: null },
      { kind: "added", what: "disk sdb", before: null, after: "sdb, 8000 GB, hdd, HDD 8T, serial C" },
      { kind: "changed", what: "NIC m1", before: "m1, eno1, ixgbe, 10000 Mb/s, link up", after: "m1, eno1, ixgbe, 10000 Mb/s, no link" },
      { kind: "added", what: "NIC m2", before: null, after: "m2, eno2, ixgbe" },
      { kind: "changed", what: "DMI serial", before: "S1", after: "S2" },
      { kind: "changed", what: "firmware", before: "bios", after: "uefi" },
      { kind: "removed", what: "BMC address", before: "10.1.0.5", after: null },
    ]);
  });

  it("from a host with no facts at all (registered by hand) everything reads as added", () => {
    const empty = snapshotOf({ cpuCores: null, memoryMb: null, disks: [], facts: {} });
    const changes = diffFacts(empty, base);
    expect(changes.every((c) => c.kind === "added")).toBe(true);
    expect(changes.map((c) => c.what)).toContain("disk sda");
  });
});
