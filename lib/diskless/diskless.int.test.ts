// Diskless roots without a machine (real PostgreSQL, qemu-img, qemu-nbd): a root whose lease ends
// is released by the worker's sync (overlay deleted, export stopped, audited); a compressed version
// is booted from a raw cache made once per version; a diskless start refuses what it cannot boot.
import "@/test/harness/route-handler";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { zstdCompressSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listAudit } from "@/db/queries/audit";
import { getLiveDisklessRoot } from "@/db/queries/diskless";
import { releaseLease } from "@/lib/leases/leases";
import { probeNbdExport } from "@/lib/exports/nbd";
import { useTestDb } from "@/test/harness/database";
import { buildDisklessRootImage } from "@/test/harness/diskless-image";
import { setTestEnvDefaults } from "@/test/harness/env";
import { seedReadyImage, startProvisioningSetup, stopQemuProvisioningSetup, type ProvisioningSetup } from "@/test/harness/provisioning";
import { startDisklessBoot } from "@/lib/deployments/diskless-boot";
import { exportsOfProcess, getDisklessRoot, syncDisklessExports } from "./diskless";

const t = await useTestDb();
const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-diskless-db-"));
setTestEnvDefaults({ KILN_DATA_DIR: path.join(tmp, "data"), KILN_NBD_BIND_ADDRESS: "127.0.0.1" });
let setup: ProvisioningSetup;
let image: Buffer;

beforeAll(async () => {
  setup = await startProvisioningSetup(t.db, { name: "diskless-db", macByte: 0xd9 });
  await buildDisklessRootImage(path.join(tmp, "root.img"), 16);
  image = await fs.readFile(path.join(tmp, "root.img"));
}, 120_000);

afterAll(async () => {
  await exportsOfProcess().stopAll();
  await stopQemuProvisioningSetup({ setup, vms: [], tmp });
});

describe("diskless roots", () => {
  it("a compressed version boots from a raw cache made once; the root goes when its lease ends", async () => {
    const { holder } = setup;
    const a = await setup.heldHost();
    const img = await seedReadyImage(t.db, { ownerUserId: holder.user!.id, bytes: zstdCompressSync(image), format: "zstd" });
    const run = await startDisklessBoot(t.db, holder, a.hostId, { imageId: img.image.id });
    expect(run.steps.map((s) => s.name)).toEqual(["power_on", "boot", "root"]);
    const root = (await getLiveDisklessRoot(t.db, a.hostId))!;
    expect(root.basePath).toMatch(/diskless\/cache\/[0-9a-f]{64}\.raw$/);
    expect((await fs.readFile(root.basePath)).equals(image)).toBe(true);
    // Not exported yet: the holder sees a root that is not served; the worker's sync exports it.
    expect((await getDisklessRoot(t.db, holder, a.hostId)).root).toMatchObject({ imageVersion: img.version, exported: false });
    await syncDisklessExports(t.db);
    const exported = (await getLiveDisklessRoot(t.db, a.hostId))!;
    expect(await probeNbdExport("127.0.0.1", exported.port!, exported.exportName)).toBe("ok");
    // What the holder sees never names the export.
    expect(JSON.stringify(await getDisklessRoot(t.db, holder, a.hostId))).not.toContain(exported.exportName);

    await releaseLease(t.db, holder, a.leaseId!);
    await syncDisklessExports(t.db);
    expect(await getLiveDisklessRoot(t.db, a.hostId)).toBeUndefined();
    await expect(fs.stat(exported.overlayPath)).rejects.toThrow();
    await expect(probeNbdExport("127.0.0.1", exported.port!, exported.exportName, 1000)).rejects.toThrow();
    const audit = (await listAudit(t.db, { action: "diskless", targetType: "host", targetId: a.hostId, limit: 10, offset: 0 })).rows.map((r) => r.action).reverse();
    expect(audit).toEqual(["diskless.boot", "diskless.release"]);
  }, 60_000);

  it("refuses a diskless boot with cloud-init, and of a host the caller does not hold", async () => {
    const { holder, outsider } = setup;
    const a = await setup.heldHost();
    const img = await seedReadyImage(t.db, { ownerUserId: holder.user!.id, bytes: image, format: "raw" });
    await expect(startDisklessBoot(t.db, holder, a.hostId, { imageId: img.image.id, unattendedTemplateId: "00000000-0000-4000-8000-000000000000" })).rejects.toThrow(/no cloud-init template or post-install/);
    await expect(startDisklessBoot(t.db, outsider, a.hostId, { imageId: img.image.id })).rejects.toThrow(/does not exist/);
    expect(await getLiveDisklessRoot(t.db, a.hostId)).toBeUndefined();
  }, 60_000);
});
