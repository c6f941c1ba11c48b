// What a machine is answered at its next network boot after its run, through the real
// machine-facing routes over HTTP: a deploy cancelled or failed mid-write halts it (with the
// reason) until someone acts; a known idle host and an unknown MAC get the same bytes; a
// checksum failure re-checks the stored blob; progress only grows.
import { listQueuedJobs } from "@/db/queries/testing";
import { FakeMachine, seedReadyImage, startProvisioningSetup, waitFor, type ProvisioningSetup } from "@/test/harness/provisioning";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getImageRow, getImageVersionRow } from "@/db/queries/images";
import type { Actor } from "@/lib/access/actor";
import { getBootSettings, markForReinstall } from "@/lib/boot/boot-settings";
import { getImageStorage } from "@/lib/images/storage";
import { stopJobSender } from "@/lib/jobs/enqueue";
import { useTestDb } from "@/test/harness/database";
import { setTestEnv, setTestEnvDefaults } from "@/test/harness/env";
import { expectAppError } from "@/test/harness/fixtures";
import { cancelDeployment } from "./commands";
import { getDeployment } from "./views";
import { startDeployment } from "./start";
import { allowDiskBoot, getNextBoot } from "./next-boot";
import { runWorkerSteps } from "./worker";
import { startWorker } from "@/workers/worker";

const t = await useTestDb();
const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-next-boot-"));
setTestEnvDefaults({ KILN_DATA_DIR: dataDir });

let setup: ProvisioningSetup;
let holder: Actor;
let outsider: Actor;

beforeAll(async () => {
  setup = await startProvisioningSetup(t.db, { name: "nextboot", macByte: 0xd4 });
  ({ holder, outsider } = setup);
});
afterAll(async () => {
  await setup?.close();
  await stopJobSender();
  await fs.rm(dataDir, { recursive: true, force: true });
});

/** A held host whose deploy has got as far as writing: powered, booted, agent started, some bytes on the disk. */
async function deployWriting(bytes?: Buffer) {
  const host = await setup.heldHost();
  const img = await seedReadyImage(t.db, { ownerUserId: holder.user!.id, ...(bytes ? { bytes } : {}) });
  const run = await startDeployment(t.db, holder, host.hostId, { action: "deploy_image", imageId: img.image.id });
  await runWorkerSteps(t.db, run.id, "deploy_image", { backoffMs: [] });
  expect(await host.machine.boot()).toContain("kiln.action=deploy");
  await host.machine.instructions();
  expect((await host.machine.progress({ bytes: 65536, totalBytes: img.bytes.length, phase: "write" })).status).toBe(200);
  return { ...host, img, run };
}

describe("/boot/<mac> for a machine with no run", () => {
  it("answers a known idle host and an unknown MAC with the same bytes: no host name, nothing to tell them apart", async () => {
    // With commissioning on discovery (docs/commissioning.md) an unknown MAC gets its commissioning run instead.
    setTestEnv({ KILN_COMMISSION_ON_DISCOVERY: "false" });
    const { machine, name } = await setup.heldHost();
    const known = await machine.request("GET", `/boot/${machine.mac.replace(/:/g, "-")}`);
    const unknown = await new FakeMachine(setup.server, "52:54:00:d4:ff:01").request("GET", "/boot/52-54-00-d4-ff-01");
    expect(known.status).toBe(200);
    expect(unknown.status).toBe(known.status);
    expect(unknown.text).toBe(known.text);
    expect(known.text).not.toContain(name);
    expect(known.text).not.toMatch(/new-|52540|d4/i);
    expect(known.text).toContain("this machine boots from its local disk");
  });
});

describe("a deploy that stops part-way through writing", () => {
  it("cancelled mid-write: the next network boot halts with the reason until the holder boots the disk anyway", async () => {
    // Compares local boot with an unknown MAC's answer, which commissioning on discovery would replace.
    setTestEnv({ KILN_COMMISSION_ON_DISCOVERY: "false" });
    const { hostId, machine, run } = await deployWriting();
    await cancelDeployment(t.db, holder, run.id);
    const halt = await machine.boot();
    expect(halt).toMatch(/^#!ipxe\n/);
    expect(halt).toMatch(/echo Kiln: the last write to this machine's disk failed or was cancelled: cancelled by \S+/);
    expect(halt).not.toMatch(/sanboot|^exit/m);
    // It asks again in place, so acting on the host page takes effect without a power cycle.
    expect(halt).toContain(`chain --replace --autofree ${setup.server.url}/boot/${machine.mac.replace(/:/g, "-")} || goto halt`);
    expect(await getNextBoot(t.db, holder, hostId)).toMatchObject({ kind: "halt", deploymentId: run.id, state: "cancelled", reason: expect.stringMatching(/^cancelled by /) });
    // The boot-settings card says the same.
    expect((await getBootSettings(t.db, holder, hostId)).nextBoot.summary).toMatch(/^Halts: the last write to its disk was cancelled \(cancelled by /);

    // Only the holder (or an admin) may end it.
    await expectAppError(allowDiskBoot(t.db, outsider, hostId), "not_found", "That host does not exist.");
    expect(await allowDiskBoot(t.db, holder, hostId)).toEqual({ kind: "disk" });
    const local = await machine.boot();
    expect(local).toBe(await new FakeMachine(setup.server, "52:54:00:d4:ff:02").boot());
    await expectAppError(allowDiskBoot(t.db, holder, hostId), "conflict", /is not halted: its next network boot already boots its disk/);
  });

  it("failed by its checksum: halts; a new run takes over the next boot; the stored blob is re-checked and, gone bad, fails its version so the next deploy is refused", async () => {
    const { hostId, machine, img, run } = await deployWriting();
    // The stored bytes go bad behind Kiln's back (one byte flipped).
    const file = getImageStorage().localBlobPath((await getImageVersionRow(t.db, { imageId: img.image.id, version: img.version }))!.storageKey!)!;
    const bytes = await fs.readFile(file);
    bytes[4096] = bytes[4096]! ^ 0xff;
    await fs.writeFile(file, bytes);
    const reason = `checksum mismatch: expected ${img.sha256}, got ${"f".repeat(64)} — the image was corrupted on the way or in storage; the disk was left without a partition table, so it does not boot`;
    // The worker, for real: the agent's failure queues the re-check, the worker runs it.
    const worker = await startWorker(t.url, { pollingIntervalSeconds: 0.5 });
    try {
      expect((await machine.failed(reason)).status).toBe(200);
      expect((await getDeployment(t.db, holder, run.id)).failureReason).toBe(`Write the image: ${reason}`);
      expect(await machine.boot()).toContain(`failed or was cancelled: Write the image: checksum mismatch: expected ${img.sha256}`);
      // The blob no longer matches: the version fails with the reason, and why it was checked.
      await waitFor("the version failed by its re-check", () => getImageVersionRow(t.db, { imageId: img.image.id, version: img.version }), (v) => v?.state === "failed", 30_000);
    } finally {
      await worker.stop();
    }
    const [job] = await listQueuedJobs(t.db, { name: "recheck-image-version", key: "imageId", value: img.image.id });
    expect(job).toMatchObject({ state: "completed", data: { imageId: img.image.id, version: img.version, cause: expect.stringMatching(/^a deploy of it to nextboot-\d+ failed its checksum \(deployment [0-9a-f-]{36}\)$/) } });
    expect((await getDeployment(t.db, holder, run.id)).logs.map((l) => l.line)).toContain(`re-checking the stored bytes of image version ${img.version}`);
    const v = (await getImageVersionRow(t.db, { imageId: img.image.id, version: img.version }))!;
    expect(v).toMatchObject({ state: "failed", storageKey: null, failureReason: expect.stringMatching(new RegExp(`^the stored bytes no longer match their checksum: expected ${img.sha256}, got [0-9a-f]{64} \\(found by a deploy of it to nextboot-\\d+ failed its checksum`)) });
    expect((await getImageRow(t.db, img.image.id))!.latestVersion).toBeNull();
    await expect(fs.stat(file)).rejects.toThrow(/ENOENT/);
    // Nothing deploys it again: a run and a mark of that version are refused with the reason.
    await expectAppError(
      startDeployment(t.db, holder, hostId, { action: "deploy_image", imageId: img.image.id, imageVersion: img.version }),
      "validation",
      /^Version 1 of that image is not ready \(failed: the stored bytes no longer match their checksum: .*\); nothing was started\.$/,
    );

    // A new run (here a wipe, the machine played by hand) is answered instead of the halt; once done, the disk boots.
    const wipe = await startDeployment(t.db, holder, hostId, { action: "wipe_disk" });
    expect(await getNextBoot(t.db, holder, hostId)).toMatchObject({ kind: "run", deploymentId: wipe.id });
    await runWorkerSteps(t.db, wipe.id, "wipe_disk", { backoffMs: [] });
    expect(await machine.boot()).toContain("kiln.action=wipe");
    await machine.instructions();
    expect((await machine.done({ erased: [] })).status).toBe(200);
    await runWorkerSteps(t.db, wipe.id, "wipe_disk", { backoffMs: [] });
    expect((await getDeployment(t.db, holder, wipe.id)).state).toBe("done");
    expect(await getNextBoot(t.db, holder, hostId)).toEqual({ kind: "disk" });
    expect(await machine.boot()).toContain("this machine boots from its local disk");
  });

  it("a deploy that failed before its write started leaves the disk as it was: local boot", async () => {
    const host = await setup.heldHost();
    const img = await seedReadyImage(t.db, { ownerUserId: holder.user!.id });
    const run = await startDeployment(t.db, holder, host.hostId, { action: "deploy_image", imageId: img.image.id });
    await runWorkerSteps(t.db, run.id, "deploy_image", { backoffMs: [] });
    await host.machine.boot();
    expect((await host.machine.failed("no disk big enough")).status).toBe(200);
    expect(await getNextBoot(t.db, holder, host.hostId)).toEqual({ kind: "disk" });
    expect(await host.machine.boot()).toContain("this machine boots from its local disk");
  });

  it("a mark for reinstall after a halt is answered with its run", async () => {
    const { hostId, machine, run } = await deployWriting();
    await cancelDeployment(t.db, holder, run.id);
    expect(await machine.boot()).toContain("failed or was cancelled");
    const { deploymentId } = await markForReinstall(t.db, holder, hostId).catch(() => ({ deploymentId: null }));
    // Without boot settings a mark is refused; the holder then starts a run instead.
    if (!deploymentId) await startDeployment(t.db, holder, hostId, { action: "wipe_disk" });
    expect((await getNextBoot(t.db, holder, hostId)).kind).toBe("run");
    expect(await machine.boot()).not.toContain("failed or was cancelled");
  });
});

describe("progress", () => {
  it("never goes backwards: a restarted agent's smaller count and a smaller done keep the maximum", async () => {
    const { machine, img, run } = await deployWriting(Buffer.alloc(64 * 1024 * 1024, 1));
    const bytesOf = async () => (await getDeployment(t.db, holder, run.id)).progress.bytesWritten;
    await machine.progress({ bytes: 39_700_000, totalBytes: img.bytes.length, phase: "write" });
    expect(await bytesOf()).toBe(39_700_000);
    // The machine rebooted into the same run: its new agent counts from zero.
    expect((await machine.progress({ bytes: 13_600_000, totalBytes: img.bytes.length, phase: "write" })).status).toBe(200);
    expect(await bytesOf()).toBe(39_700_000);
    await machine.progress({ bytes: 50_000_000, totalBytes: img.bytes.length, phase: "write" });
    expect(await bytesOf()).toBe(50_000_000);
    // A total of 0 (unknown, a compressed image) keeps the known one.
    await machine.progress({ bytes: 60_000_000, totalBytes: 0, phase: "write" });
    expect((await getDeployment(t.db, holder, run.id)).progress).toMatchObject({ bytesWritten: 60_000_000, totalBytes: img.bytes.length });
    expect((await machine.done({ sha256: img.sha256, bytes: 1000 })).status).toBe(200);
    expect(await bytesOf()).toBe(60_000_000);
  });
});
