// Hardware facts as lease criteria, against a real PostgreSQL: each criterion takes exactly the
// hosts whose commissioned facts meet it (old rows without a disk type count by rotational flag
// and nvme* name), a host never commissioned meets none, and a refusal says how many free hosts
// meet each criterion. The same criteria filter the admin host list and the dialog's count.
// First, before any route module: it sets up the request scope Next's modules expect.
import { callRoute } from "@/test/harness/route-handler";
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import * as poolMatches from "@/app/api/v1/pools/[id]/matches/route";
import { createApiToken } from "@/lib/auth/api-tokens";
import { listHosts } from "@/lib/hosts/hosts";
import { useTestDb } from "@/test/harness/database";
import { expectAppError } from "@/test/harness/fixtures";
import { as, seedHosts, seedLeaseWorld, uniqueSuffix, type SeedHostsOptions } from "@/test/harness/inventory";
import { getPoolMatches } from "./hardware";
import { createLease } from "./leases";

const t = await useTestDb();
const NOW = new Date("2026-12-03T08:00:00Z");
const GB = 1_000_000_000;
const COMMISSIONED = "2026-12-01T10:00:00Z";

// Four kinds of machine; names sort a < b < c < d, the order a grant takes them in.
const KINDS: Record<string, Omit<SeedHostsOptions, "count" | "poolId" | "prefix">> = {
  a: {
    cpuCores: 32,
    memoryMb: 131072,
    disks: [{ name: "nvme0n1", sizeBytes: 1000 * GB, model: "Samsung PM9A3", serial: "S1", rotational: false, type: "nvme" }],
    facts: { cpu: { model: "AMD EPYC 7543 32-Core Processor", vendor: "AuthenticAMD", threads: 64 }, nics: [{ mac: "02:00:00:00:0a:01", name: "eth0", driver: "mlx5_core", speedMbps: 25000, link: true }], firmware: "uefi", bmc: null, commissionedAt: COMMISSIONED },
  },
  b: {
    cpuCores: 16,
    memoryMb: 65536,
    // An old row: no `type`, only the rotational flag.
    disks: [{ name: "sda", sizeBytes: 480 * GB, model: "INTEL SSDSC2KB48", serial: "S2", rotational: false }],
    facts: { cpu: { model: "Intel(R) Xeon(R) Gold 6130 CPU @ 2.10GHz", vendor: "GenuineIntel", threads: 32 }, nics: [{ mac: "02:00:00:00:0b:01", name: "eno1", driver: "i40e", speedMbps: 10000, link: true }], firmware: "bios", bmc: { address: "10.0.0.12" }, commissionedAt: COMMISSIONED },
  },
  c: {
    cpuCores: 8,
    memoryMb: 32768,
    // A big spinning disk and a small NVMe known only by its name.
    disks: [
      { name: "sda", sizeBytes: 4000 * GB, model: "ST4000NM", serial: "S3", rotational: true },
      { name: "nvme0n1", sizeBytes: 256 * GB, model: "small", serial: "S4" },
    ],
    facts: { cpu: { model: "Intel(R) Xeon(R) CPU E5-2650 v4 @ 2.20GHz", vendor: "GenuineIntel", threads: 24 }, nics: [{ mac: "02:00:00:00:0c:01", name: "eno1", driver: "igb", speedMbps: 1000, link: true }], firmware: "bios", bmc: null, commissionedAt: COMMISSIONED },
  },
  // Enlisted, never commissioned: nothing known.
  d: {},
};

async function hardwareWorld(kinds = ["a", "b", "c", "d"]) {
  const w = await seedLeaseWorld(t.db, { hosts: 0 });
  const names: Record<string, string> = {};
  for (const k of kinds) {
    const [h] = await seedHosts(t.db, { poolId: w.pool.id, count: 1, prefix: `${k}${uniqueSuffix()}`, ...KINDS[k] });
    names[k] = h!.name;
  }
  return { ...w, names, researcher: as(w.members[0]![0]!) };
}

describe("leasing by hardware facts", () => {
  const cases: [string, Record<string, unknown>, string[]][] = [
    ["an NVMe disk of at least 500 GB", { diskType: "nvme", minDiskGb: 500 }, ["a"]],
    ["any NVMe disk (by type, or by an nvme* name on an old row)", { diskType: "nvme" }, ["a", "c"]],
    ["a solid-state disk of at least 400 GB: SSD or NVMe, by type or rotational flag", { diskType: "ssd", minDiskGb: 400 }, ["a", "b"]],
    ["a rotating disk", { diskType: "hdd" }, ["c"]],
    ["a disk of at least 2000 GB, of any kind", { minDiskGb: 2000 }, ["c"]],
    ["UEFI firmware", { firmware: "uefi" }, ["a"]],
    ["BIOS firmware", { firmware: "bios" }, ["b", "c"]],
    ["a CPU model, any case", { cpuModel: "xeon" }, ["b", "c"]],
    ["a CPU model by a longer part", { cpuModel: "epyc 7543" }, ["a"]],
    ["a network interface of at least 10 Gb/s", { minNicSpeedMbps: 10000 }, ["a", "b"]],
    ["cores and memory", { minCores: 16, minMemoryMb: 65536 }, ["a", "b"]],
    ["all of them at once", { minCores: 8, minMemoryMb: 1024, diskType: "ssd", minDiskGb: 100, firmware: "bios", cpuModel: "gold", minNicSpeedMbps: 1000 }, ["b"]],
  ];
  for (const [what, criteria, expected] of cases) {
    it(`takes exactly the hosts with ${what}`, async () => {
      const w = await hardwareWorld();
      const want = expected.map((k) => w.names[k]);
      // One more than match: refused, and nothing leased (all or nothing)…
      await expectAppError(createLease(t.db, w.researcher, { poolId: w.pool.id, count: want.length + 1, ...criteria }, { now: NOW }), "insufficient_capacity");
      // …the dialog's count agrees with the grant…
      const counts = await getPoolMatches(t.db, w.researcher, w.pool.id, Object.fromEntries(Object.entries(criteria).map(([k, v]) => [k, String(v)])));
      expect(counts).toMatchObject({ free: 4, matching: want.length, withoutFacts: 1 });
      // …and exactly those hosts are granted.
      const lease = await createLease(t.db, w.researcher, { poolId: w.pool.id, count: want.length, ...criteria }, { now: NOW });
      expect(lease.hosts.map((h) => h.name).sort()).toEqual(want);
    });
  }

  it("treats LIKE's wildcards in a CPU model as plain characters", async () => {
    const w = await hardwareWorld(["a", "b"]);
    await expectAppError(createLease(t.db, w.researcher, { poolId: w.pool.id, cpuModel: "%" }, { now: NOW }), "insufficient_capacity");
    await expectAppError(createLease(t.db, w.researcher, { poolId: w.pool.id, cpuModel: "x_on" }, { now: NOW }), "insufficient_capacity");
  });

  it("matches nothing on a malformed fact instead of failing the query", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 0 });
    await seedHosts(t.db, {
      poolId: w.pool.id,
      count: 1,
      disks: [{ name: "sda", sizeBytes: "big", rotational: "yes" } as never],
      facts: { nics: "eth0", cpu: "fast", firmware: 7 },
    });
    const ann = as(w.members[0]![0]!);
    for (const criteria of [{ minDiskGb: 1 }, { diskType: "hdd" }, { minNicSpeedMbps: 1 }, { cpuModel: "fast" }, { firmware: "bios" }]) {
      await expectAppError(createLease(t.db, ann, { poolId: w.pool.id, ...criteria }, { now: NOW }), "insufficient_capacity", new RegExp(`^1 host is free in pool ${w.pool.name}; none has`));
    }
  });
});

describe("refusing a lease by hardware", () => {
  it("says how many hosts are free and how many meet each criterion, and that uncommissioned ones meet none", async () => {
    const w = await hardwareWorld();
    const pool = w.pool.name;
    const nobody = await expectAppError(
      createLease(t.db, w.researcher, { poolId: w.pool.id, diskType: "nvme", minDiskGb: 5000 }, { now: NOW }),
      "insufficient_capacity",
      `4 hosts are free in pool ${pool}; none has an NVMe disk of at least 5000 GB. 1 of the free hosts has no hardware facts yet (never commissioned), so it matches no hardware requirement. Nothing was leased.`,
    );
    expect(nobody.details).toMatchObject({ available: 0, requested: 1, free: 4, withoutFacts: 1, criteria: [{ criterion: "disk", label: "an NVMe disk of at least 5000 GB", matching: 0 }] });

    await expectAppError(
      createLease(t.db, w.researcher, { poolId: w.pool.id, count: 2, diskType: "nvme", minDiskGb: 500 }, { now: NOW }),
      "insufficient_capacity",
      `4 hosts are free in pool ${pool}; 1 has an NVMe disk of at least 500 GB; you asked for 2. 1 of the free hosts has no hardware facts yet (never commissioned), so it matches no hardware requirement. Nothing was leased.`,
    );
    await expectAppError(
      createLease(t.db, w.researcher, { poolId: w.pool.id, count: 2, minCores: 16, minMemoryMb: 65536, firmware: "bios" }, { now: NOW }),
      "insufficient_capacity",
      `4 hosts are free in pool ${pool}; 2 have at least 16 cores, 2 have at least 64 GB memory, 2 have BIOS firmware; 1 has all of these, and you asked for 2. 1 of the free hosts has no hardware facts yet (never commissioned), so it matches no hardware requirement. Nothing was leased.`,
    );
    await expectAppError(
      createLease(t.db, w.researcher, { poolId: w.pool.id, minCores: 32, firmware: "bios", tags: [] }, { now: NOW }),
      "insufficient_capacity",
      new RegExp(`^4 hosts are free in pool ${pool}; 1 has at least 32 cores, 2 have BIOS firmware, but none has all of these\\. `),
    );
    await expectAppError(
      createLease(t.db, w.researcher, { poolId: w.pool.id, cpuModel: "Threadripper", minNicSpeedMbps: 100000 }, { now: NOW }),
      "insufficient_capacity",
      new RegExp(`; none has a CPU model containing “Threadripper”, none has a network interface of at least 100 Gb/s\\. `),
    );
  });

  it("in a pool of machines never commissioned, says that none has facts yet", async () => {
    const w = await hardwareWorld(["d", "d"]);
    await expectAppError(
      createLease(t.db, w.researcher, { poolId: w.pool.id, minCores: 4 }, { now: NOW }),
      "insufficient_capacity",
      `2 hosts are free in pool ${w.pool.name}; none has at least 4 cores. 2 of the free hosts have no hardware facts yet (never commissioned), so they match no hardware requirement. Nothing was leased.`,
    );
  });

  it("counts only free hosts, and keeps the plain message when nothing is free", async () => {
    const w = await hardwareWorld(["a", "b"]);
    await createLease(t.db, w.researcher, { poolId: w.pool.id, diskType: "nvme" }, { now: NOW });
    await expectAppError(
      createLease(t.db, w.researcher, { poolId: w.pool.id, diskType: "nvme" }, { now: NOW }),
      "insufficient_capacity",
      `1 host is free in pool ${w.pool.name}; none has an NVMe disk. Nothing was leased.`,
    );
    await createLease(t.db, w.researcher, { poolId: w.pool.id }, { now: NOW });
    await expectAppError(createLease(t.db, w.researcher, { poolId: w.pool.id, firmware: "uefi" }, { now: NOW }), "insufficient_capacity", `No host available in pool ${w.pool.name} right now. Nothing was leased.`);
  });

  it("refuses criteria that are not hardware words, naming the field", async () => {
    const w = await hardwareWorld(["a"]);
    const bad: [Record<string, unknown>, string][] = [
      [{ diskType: "floppy" }, "diskType"],
      [{ firmware: "coreboot" }, "firmware"],
      [{ cpuModel: "  " }, "cpuModel"],
      [{ minDiskGb: 0 }, "minDiskGb"],
      [{ minNicSpeedMbps: 1.5 }, "minNicSpeedMbps"],
    ];
    for (const [criteria, field] of bad) {
      const e = await expectAppError(createLease(t.db, w.researcher, { poolId: w.pool.id, ...criteria }, { now: NOW }), "validation");
      expect(Object.keys(e.details!.fieldErrors!)).toEqual([field]);
    }
  });
});

describe("the pool match count and the host list filters", () => {
  it("counts free matching hosts per criterion for any signed-in user, from query strings", async () => {
    const w = await hardwareWorld();
    const counts = await getPoolMatches(t.db, w.researcher, w.pool.id, { minCores: "16", diskType: "ssd", tags: "" });
    expect(counts).toEqual({
      poolId: w.pool.id,
      poolName: w.pool.name,
      free: 4,
      matching: 2,
      withoutFacts: 1,
      criteria: [
        { criterion: "cores", label: "at least 16 cores", matching: 2 },
        // c's small nvme0n1 counts: solid-state, of any size.
        { criterion: "disk", label: "a solid-state disk (SSD or NVMe)", matching: 3 },
      ],
    });
    expect(await getPoolMatches(t.db, w.researcher, w.pool.id, {})).toMatchObject({ free: 4, matching: 4, criteria: [] });
    await expectAppError(getPoolMatches(t.db, w.researcher, randomUUID(), {}), "not_found", "That pool does not exist.");
    await expectAppError(getPoolMatches(t.db, w.researcher, w.pool.id, { minDiskGb: "lots" }), "validation");
  });

  it("filters the admin host list by the same criteria, from query strings", async () => {
    const w = await hardwareWorld();
    const names = async (q: Record<string, string>) => (await listHosts(t.db, w.adminActor, { pool: w.pool.id, ...q })).data.map((h) => h.name);
    expect(await names({ diskType: "ssd", minDiskGb: "400" })).toEqual([w.names.a, w.names.b]);
    expect(await names({ firmware: "bios", cpuModel: "XEON" })).toEqual([w.names.b, w.names.c]);
    expect(await names({ minNicSpeedMbps: "25000" })).toEqual([w.names.a]);
    expect(await names({ minMemoryMb: "1" })).toEqual([w.names.a, w.names.b, w.names.c]);
    const page = await listHosts(t.db, w.adminActor, { pool: w.pool.id, minCores: "9" });
    expect(page.pagination.total).toBe(2);
    await expectAppError(listHosts(t.db, w.adminActor, { diskType: "tape" }), "validation");
    // A researcher still lists only the hosts they hold.
    expect((await listHosts(t.db, w.researcher, { diskType: "ssd" })).data).toEqual([]);
  });
});

describe("GET /api/v1/pools/{id}/matches", () => {
  it("answers a researcher's query string, and refuses a bad value with a 400 naming it", async () => {
    const w = await hardwareWorld();
    const { token } = await createApiToken(t.db, w.members[0]![0]!.id, { name: "hardware" });
    const path = (q: string) => `/api/v1/pools/${w.pool.id}/matches?${q}`;
    const ok = await callRoute<{ matching: number; criteria: { label: string }[] }>(poolMatches.GET, "GET", path("minDiskGb=500&diskType=nvme&firmware=uefi"), { token, params: { id: w.pool.id } });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ free: 4, matching: 1, withoutFacts: 1, criteria: [{ label: "an NVMe disk of at least 500 GB" }, { label: "UEFI firmware" }] });
    for (const [q, field] of [["diskType=floppy", "diskType"], ["minCores=many", "minCores"], ["tags=Not%20A%20Tag!", "tags"]] as const) {
      const bad = await callRoute<{ error: { code: string; message: string } }>(poolMatches.GET, "GET", path(q), { token, params: { id: w.pool.id } });
      expect(bad.status, q).toBe(400);
      expect(bad.body.error.message, q).toContain(field);
    }
  });
});
