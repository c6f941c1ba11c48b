// A worker that restarts (its exports gone with it, or left running by a SIGKILL) serves every
// live disk again on the port its rows carry, so what was rendered for the machines stays right;
// a left-over qemu-nbd for the same disk is replaced, not run beside. Its own database: the
// reconciler acts on every row, and two exporters must not fight over another file's disks.
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listLeaseDiskRows } from "@/db/queries/lease-disks";
import { probeNbdExport } from "@/lib/exports/nbd";
import { createLease, releaseLease } from "@/lib/leases/leases";
import { useTestDb } from "@/test/harness/database";
import { setTestEnvDefaults } from "@/test/harness/env";
import { as, seedLeaseWorld } from "@/test/harness/inventory";
import { createLeaseDisks } from "./extra-disks";
import { createNbdDiskExporter } from "./exporter";
import { reconcileLeaseDisks } from "./reconcile";

const t = await useTestDb();
let dir: string;
const first = createNbdDiskExporter({ bindAddress: "127.0.0.1", address: "127.0.0.1" });
const second = createNbdDiskExporter({ bindAddress: "127.0.0.1", address: "127.0.0.1" });

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "kiln-extra-disks-restart-"));
  setTestEnvDefaults({ KILN_EXTRA_DISKS_DIR: dir });
});
afterAll(async () => {
  await first.stopAll();
  await second.stopAll();
  await rm(dir, { recursive: true, force: true });
});

describe("extra disks across a worker restart", () => {
  it("come back on their former ports, replacing a qemu-nbd the old worker left running", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 1 });
    const ann = w.members[0]![0]!;
    const lease = await createLease(t.db, as(ann), { poolId: w.pool.id, count: 1 });
    await createLeaseDisks(t.db, as(ann), lease.id, { hostId: lease.hosts[0]!.id, count: 2, sizeGb: 0.01 });
    await reconcileLeaseDisks(t.db, first);
    const before = await listLeaseDiskRows(t.db, { leaseId: lease.id, live: true });

    // The first worker goes: one disk's export with it (a clean stop), the other's qemu-nbd left
    // running outside any supervisor (as a SIGKILLed worker leaves it).
    await first.stopAll();
    const [gone, left] = before as [(typeof before)[0], (typeof before)[0]];
    const orphan = execFile("qemu-nbd", ["--persistent", "--bind", "127.0.0.1", "--port", String(left.exportPort), "--export-name", left.exportName, "-f", "raw", left.path]);
    const orphanExit = new Promise((r) => orphan.once("exit", r));
    await expect.poll(() => probeNbdExport("127.0.0.1", left.exportPort!, left.exportName, 500).catch(() => "down"), { timeout: 5000 }).toBe("ok");
    await expect(probeNbdExport("127.0.0.1", gone.exportPort!, gone.exportName, 500)).rejects.toThrow();

    expect(await reconcileLeaseDisks(t.db, second)).toMatchObject({ made: 0, exported: 0, failed: 0 });
    await orphanExit;
    const after = await listLeaseDiskRows(t.db, { leaseId: lease.id, live: true });
    expect(after.map((r) => [r.id, r.exportPort])).toEqual(before.map((r) => [r.id, r.exportPort]));
    for (const r of after) expect(await probeNbdExport("127.0.0.1", r.exportPort!, r.exportName)).toBe("ok");
    expect((await second.list()).sort()).toEqual(after.map((r) => r.exportName).sort());

    await releaseLease(t.db, as(ann), lease.id);
    expect(await reconcileLeaseDisks(t.db, second)).toMatchObject({ wiped: 2, failed: 0 });
    expect(await second.list()).toEqual([]);
  });
});
