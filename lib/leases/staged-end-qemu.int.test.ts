// The staged end of a lease on a real machine: QEMU (SeaBIOS + iPXE) network-boots Kiln's deploy
// ramdisk through Kiln's own routes. An image is deployed to its disk; the holder is warned
// (the mail offers the capture), the lease enters its grace, the holder captures the disk into
// a new image from the lease, the grace ends while the capture runs — the release waits — and
// the new version's bytes are the disk's; then the machine is powered off and wiped through the
// release, the host is available again and the lease is returned. Time is moved by the test
// (clocks) for the lease; the runs themselves take real time.
import "@/test/harness/route-handler";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { gunzipSync, zstdDecompressSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getActiveDeployment } from "@/db/queries/boot";
import { listDeploymentRows } from "@/db/queries/deployments";
import { getImageVersionRow } from "@/db/queries/images";
import { getLeaseRow } from "@/db/queries/leases";
import { getDeployment } from "@/lib/deployments/views";
import { startDeployment } from "@/lib/deployments/start";
import { runWorkerSteps } from "@/lib/deployments/worker";
import { createHost } from "@/lib/hosts/hosts";
import { getImageStorage } from "@/lib/images/storage";
import { createPool } from "@/lib/pools/pools";
import { useTestDb } from "@/test/harness/database";
import { setTestEnvDefaults } from "@/test/harness/env";
import { hostStates } from "@/test/harness/inventory";
import { seedReadyImage, startQemuProvisioningSetup, startVerifier, stopQemuProvisioningSetup, waitFor as waitUntil, type ProvisioningSetup } from "@/test/harness/provisioning";
import { GUEST_KILN_URL, startVm, waitFor, type Vm } from "@/test/harness/qemu";
import { startSmtp } from "@/test/harness/smtp";
import { expireDueLeases, sendLeaseReminders } from "./expiry";
import { createLease, getLease } from "./leases";
import { advanceLeaseEnds, startLeaseCapture } from "./staged-end";

const t = await useTestDb();
const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-staged-end-qemu-"));
const smtp = await startSmtp();
setTestEnvDefaults({ KILN_DATA_DIR: path.join(tmp, "data"), KILN_RAMDISK_DIR: path.join(tmp, "ramdisk"), SMTP_URL: smtp.url, KILN_LEASE_REMINDER_HOURS: "1" });
const MiB = 1024 * 1024;
const MINUTE = 60_000;
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const after = (at: Date, minutes: number) => new Date(at.getTime() + minutes * MINUTE);

let setup: ProvisioningSetup;
const vms: Vm[] = [];

beforeAll(async () => {
  setup = await startQemuProvisioningSetup(t.db, { name: "qemu-staged", macByte: 0xd9, tmp });
}, 600_000);

afterAll(async () => {
  await stopQemuProvisioningSetup({ setup, vms, tmp });
  await smtp.stop();
});

/** Starts the machine on this disk for the run the host is at, and waits for the run's end. */
async function runOnMachine(p: { mac: string; disk: string; deploymentId: string; action: "deploy_image" | "capture_disk" | "wipe_disk"; what: string }) {
  await runWorkerSteps(t.db, p.deploymentId, p.action, { backoffMs: [] });
  const started = Date.now();
  const vm = await startVm({ mac: p.mac, kilnPort: setup.server.port, diskPath: p.disk, memoryMb: 512, bootfile: `${GUEST_KILN_URL}/boot/${p.mac.replace(/:/g, "-")}` });
  vms.push(vm);
  const view = await waitUntil(p.what, () => getDeployment(t.db, setup.admin, p.deploymentId), (v) => (v.state !== "running" && v.state !== "pending") || v.currentStep === "power_off", 420_000).catch((e) => {
    throw new Error(`${(e as Error).message}\nserial:\n${vm.serial().slice(-4000)}`);
  });
  // A wipe ends with the machine switched off by Kiln (the power_off step, a worker step).
  if (view.state === "running") await runWorkerSteps(t.db, p.deploymentId, p.action, { backoffMs: [] });
  const done = await getDeployment(t.db, setup.admin, p.deploymentId);
  console.info(`${p.what}: ${done.state} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  expect(done.state, `${done.failureReason}\n${vm.serial().slice(-3000)}`).toBe("done");
  await vm.stop();
  return done;
}

describe("the staged end of a lease on a QEMU machine", () => {
  it("deployed disk → warned → grace → capture into a new image (the release waits) → power off and wipe → available → returned", async () => {
    const { holder, admin } = setup;
    const pool = await createPool(t.db, admin, { name: "qemu-staged-pool", endGraceMinutes: 30 });
    const mac = "52:54:00:d9:01:01";
    const host = await createHost(t.db, admin, { name: "qemu-staged-1", interfaces: [{ mac }], poolId: pool.id, power: { driver: "plugin", params: { command: setup.plugin.command } } });
    const lease = await createLease(t.db, holder, { poolId: pool.id, count: 1, durationHours: 2, projectId: setup.projectId });
    const end = new Date(lease.endsAt);

    // The holder's system: an image deployed by Kiln onto the machine's 64 MiB disk.
    const marker = Buffer.from(`kiln-staged-end-${Date.now().toString(36)}\n`);
    const imageBytes = Buffer.concat([marker, randomBytes(8 * MiB), Buffer.alloc(8 * MiB - marker.length, 0x5a)]);
    const img = await seedReadyImage(t.db, { ownerUserId: holder.user!.id, bytes: imageBytes });
    const disk = path.join(tmp, "disk.raw");
    await fs.writeFile(disk, Buffer.alloc(0));
    await fs.truncate(disk, 64 * MiB);
    const deploy = await startDeployment(t.db, holder, host.id, { action: "deploy_image", imageId: img.image.id, disk: "vda" });
    await runOnMachine({ mac, disk, deploymentId: deploy.id, action: "deploy_image", what: "the image deploy" });
    const deployed = await fs.readFile(disk);
    expect(sha(deployed.subarray(0, imageBytes.length))).toBe(sha(imageBytes));

    // Warned: the reminder mail offers the capture.
    expect(await sendLeaseReminders(t.db, { now: after(end, -30) })).toBe(1);
    expect(smtp.mailsTo(holder.user!.email).at(-1)!.text).toContain(`/?capture=${lease.id}`);

    // Grace: the lease stays active; only a capture may run.
    expect(await expireDueLeases(t.db, { now: end })).toBe(0);
    expect((await getLeaseRow(t.db, lease.id))!).toMatchObject({ state: "active", endStage: "grace", graceEndsAt: after(end, 30) });
    const graceEnd = after(end, 30);

    // The holder captures the disk into a new image, from the lease.
    const verifier = startVerifier(t.db);
    try {
      const capture = await startLeaseCapture(t.db, holder, lease.id, { hostId: host.id, newImageName: "kept-before-the-wipe" }, { now: after(end, 5) });
      expect((await getLeaseRow(t.db, lease.id))!.endStage).toBe("capturing");
      // The grace ends before the capture has even started on the machine: the lease ends, the
      // host waits in releasing, and nothing cancels the capture or starts a wipe.
      expect(await expireDueLeases(t.db, { now: graceEnd })).toBe(1);
      expect(await hostStates(t.db, [host.id])).toEqual({ [host.id]: "releasing" });
      expect((await getActiveDeployment(t.db, host.id))!.id).toBe(capture.id);

      const captured = await runOnMachine({ mac, disk, deploymentId: capture.id, action: "capture_disk", what: "the capture" });
      expect((await listDeploymentRows(t.db, { hostId: host.id, limit: 10, offset: 0 })).rows.filter((r) => r.deployment.origin === "release")).toEqual([]);

      // The new image version's bytes are the disk's.
      const version = (await getImageVersionRow(t.db, { imageId: captured.image!.id, version: captured.image!.version! }))!;
      expect(version.state).toBe("ready");
      const blob = await fs.readFile(getImageStorage().localBlobPath(version.storageKey!)!);
      const raw = version.format === "gzip" ? gunzipSync(blob) : zstdDecompressSync(blob);
      expect(raw.length).toBe(deployed.length);
      expect(sha(raw)).toBe(sha(deployed));
      expect(raw.subarray(0, marker.length).toString()).toBe(marker.toString());
    } finally {
      await verifier.stop();
    }

    // The capture is over: power off and wipe, through the release.
    expect((await advanceLeaseEnds(t.db, { now: after(graceEnd, 20) })).releasing).toBe(1);
    const wipe = (await listDeploymentRows(t.db, { hostId: host.id, limit: 10, offset: 0 })).rows.map((r) => r.deployment).find((d) => d.origin === "release")!;
    expect(wipe).toMatchObject({ action: "wipe_disk", leaseId: lease.id });
    await runOnMachine({ mac, disk, deploymentId: wipe.id, action: "wipe_disk", what: "the release wipe" });
    const wiped = await fs.readFile(disk);
    expect(wiped.indexOf(marker)).toBe(-1);
    // Quick mode clears the first and last 64 MiB: all of this disk.
    expect(wiped.equals(Buffer.alloc(wiped.length))).toBe(true);
    expect(await hostStates(t.db, [host.id])).toEqual({ [host.id]: "available" });

    // Back in the pool: the lease is returned, every stage with its time.
    expect((await advanceLeaseEnds(t.db, { now: after(graceEnd, 40) })).returned).toBe(1);
    const view = await getLease(t.db, holder, lease.id);
    expect(view.end.stages.map((s) => s.stage)).toEqual(["warned", "grace", "capturing", "releasing", "returned"]);
    expect(view.end.stages.map((s) => s.at)).toEqual([after(end, -30), end, after(end, 5), after(graceEnd, 20), after(graceEnd, 40)].map((d) => d.toISOString()));
  }, 1_500_000);
});
