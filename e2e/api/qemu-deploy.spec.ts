// The moment everything in Kiln exists for, on real firmware: a QEMU machine (SeaBIOS or OVMF
// with the iPXE NIC ROM labs run, software emulation) is registered with the `qemu` power
// driver, leased, and given a run through the API. Kiln powers it on; it network-boots Kiln's
// deploy ramdisk, whose agent writes the image to the disk, verifies it and reboots; Kiln then
// answers local boot and the machine boots its new disk, which prints a marker on the serial
// console. The image is built by the harness from Debian packages (lab/bootable-image.ts).
// The failure paths run on the same real boots: a corrupted blob, Kiln's web process killed
// and restarted mid-download (the launcher restarts it; the agent resumes with Range), and a
// machine that never network-boots.
import { readFileSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { zstdDecompressSync } from "node:zlib";
import { expect, test } from "@playwright/test";
import { buildBootableImage, compressImage, sha256File } from "../../lab/bootable-image";
import { adminToken, api, apiOk, connectDatabase, registerResearcher } from "../support/api";
import { createImage, uploadVersion } from "../support/images";
import { addMember, createPool, createProject, uniqueName } from "../support/inventory";
import { createLabMachine, headOf, isAlive, registerLabMachine, sha256Of, startRelay, type LabMachine } from "../support/machines";
import { readState } from "../support/state";

test.describe.configure({ mode: "serial" });

const MARKER = `deployed-by-kiln-${Date.now().toString(36)}`;
let admin = "";
let researcher = { email: "", token: "", userId: "" };
let poolId = "";
let projectId = "";
let work = "";
let image = { id: "", name: "" };
const versions: Record<"raw" | "zstd" | "gzip", { version: number; sha256: string; sizeBytes: number }> = {} as never;
let rawImage = "";
let macCounter = 0x10;
const machines: LabMachine[] = [];

/** Machines reach Kiln through its boot server, as DHCP pointed at it would send them. */
function kilnPort(): number {
  return readState().bootPort;
}

async function newMachine(p: { uefi?: boolean; port?: number } = {}) {
  const mac = `52:54:00:4b:44:${(macCounter++).toString(16).padStart(2, "0")}`;
  const m = await createLabMachine({ name: uniqueName("vm"), mac, port: p.port ?? kilnPort(), uefi: p.uefi });
  machines.push(m);
  const host = await registerLabMachine(admin, m, poolId);
  await apiOk(admin, "POST", "/api/v1/leases", { hostIds: [host.id], userId: researcher.userId, projectId, durationHours: 2 }, 201);
  return { machine: m, host };
}

async function deploy(hostId: string, body: Record<string, unknown>) {
  return apiOk<{ id: string }>(researcher.token, "POST", `/api/v1/hosts/${hostId}/deployments`, body, 201);
}

/** Waits for the run to end; on a timeout the error carries the machine's serial console. */
async function finished(runId: string, m: LabMachine, timeoutMs: number): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // Kiln may be restarting (DEPLOY-RESTART): a refused connection is asked again.
    const run = (await api(researcher.token, "GET", `/api/v1/deployments/${runId}`).catch(() => ({ body: { state: "unreachable" } }))).body;
    if (["done", "failed", "cancelled"].includes(run.state)) return run;
    if (Date.now() > deadline) throw new Error(`run ${runId} still ${run.state} (${run.currentStep}) after ${timeoutMs} ms\nlog: ${run.logs?.map((l: any) => l.line).join("\n")}\nserial:\n${m.serial().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function markerOnConsole(m: LabMachine, timeoutMs: number): Promise<void> {
  await expect.poll(() => m.serial().includes(`KILN-BOOTED ${MARKER}`), { timeout: timeoutMs, message: `the marker on ${m.name}'s console:\n${m.serial().slice(-3000)}` }).toBe(true);
}

test.beforeAll(async () => {
  test.setTimeout(240_000);
  admin = await adminToken(uniqueName("qemu-deploy"));
  const r = await registerResearcher("qemu-deployer", 1);
  researcher = { email: r.email, token: r.tokens[0]!, userId: "" };
  poolId = (await createPool(admin, { name: uniqueName("qemu-lab") })).id;
  projectId = (await createProject(admin, { name: uniqueName("qemu-proj") })).id;
  researcher.userId = (await addMember(admin, projectId, researcher.email)).userId;

  // The image: Debian's kernel (the same one the ramdisk boots) with an init that prints the
  // marker, on a disk that SeaBIOS (syslinux) and OVMF (EFI loader) both boot. Three versions
  // of one image: raw, zstd and gzip.
  work = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-deploy-e2e-"));
  rawImage = path.join(work, "marker.img");
  await buildBootableImage({ kernelPath: path.join(readState().dataDir, "ramdisk", "vmlinuz"), outPath: rawImage, marker: MARKER });
  image = await createImage(researcher.token, uniqueName("marker"));
  versions.raw = await uploadVersion(researcher.token, image.id, rawImage);
  versions.zstd = await uploadVersion(researcher.token, image.id, (await compressImage(rawImage, "zst")).path);
  versions.gzip = await uploadVersion(researcher.token, image.id, (await compressImage(rawImage, "gz")).path);
  expect([versions.raw, versions.zstd, versions.gzip].map((v: any) => v.format)).toEqual([expect.stringMatching(/^raw/), "zstd", "gzip"]);
});

test.afterAll(async () => {
  await Promise.all(machines.map((m) => m.remove()));
  if (work) await fs.rm(work, { recursive: true, force: true });
});

test("[DEPLOY-BIOS] SeaBIOS + iPXE: Kiln powers the machine on, the ramdisk writes the image, the machine boots it; then its disk is captured", async () => {
  test.setTimeout(300_000);
  const { machine, host } = await newMachine();
  const run = await deploy(host.id, { action: "deploy_image", imageId: image.id, imageVersion: versions.raw.version });
  const done = await finished(run.id, machine, 150_000);
  expect(done.state, done.failureReason).toBe("done");
  expect(done.provisioning).toBe("deployed");
  // Every step, with its timestamps, in order.
  expect(done.steps.map((s: any) => [s.name, s.state])).toEqual([["power_on", "done"], ["boot", "done"], ["agent", "done"], ["write", "done"], ["verify", "done"]]);
  for (const s of done.steps) {
    expect(Date.parse(s.startedAt)).toBeLessThanOrEqual(Date.parse(s.finishedAt));
  }
  expect(done.progress).toMatchObject({ bytesWritten: versions.raw.sizeBytes, totalBytes: versions.raw.sizeBytes });
  expect(done.logs.map((l: any) => l.line)).toEqual(expect.arrayContaining([expect.stringMatching(/^inventory recorded: 1 cores/), `done: ${versions.raw.sizeBytes} bytes, sha256 ${versions.raw.sha256}`]));
  // It rebooted, Kiln answered local boot, and the machine runs what was written.
  await markerOnConsole(machine, 90_000);
  expect(sha256Of(await headOf(machine.disk, versions.raw.sizeBytes))).toBe(versions.raw.sha256);
  // The ramdisk booted with `quiet`: its command line (and the run's token) stayed off the console.
  expect(machine.serial()).toContain("kiln-ramdisk:");
  expect(machine.serial()).not.toMatch(/kiln\.token=[A-Za-z0-9_-]{20,}/);
  const facts = (await apiOk(admin, "GET", `/api/v1/hosts/${host.id}`, undefined, 200)).host;
  expect(facts.disks?.[0]).toMatchObject({ name: "vda", sizeBytes: 64 * 1024 * 1024 });
  await expect.poll(() => machine.running(), { timeout: 30_000 }).toBe(false);

  // Capture: the same machine's disk becomes a new version whose bytes are the disk's.
  const target = await createImage(researcher.token, uniqueName("captured"));
  const capture = await deploy(host.id, { action: "capture_disk", imageId: target.id });
  const captured = await finished(capture.id, machine, 150_000);
  expect(captured.state, captured.failureReason).toBe("done");
  // Through tus with the run's token, in two 32 MiB chunks; done once Kiln's worker verified it.
  expect(captured.logs.map((l: any) => l.line)).toEqual(
    expect.arrayContaining([expect.stringMatching(/^capturing \/dev\/vda \(67108864 bytes\) in 2 chunks of 32 MiB, compressed with zstd, to http:\/\/[^ ]+\/api\/uploads\/[0-9a-f]+$/), expect.stringMatching(/^received \d+ bytes; verifying version 1$/)]),
  );
  const v = (await api(researcher.token, "GET", `/api/v1/images/${target.id}/versions`)).body.data[0];
  expect(v).toMatchObject({ state: "ready", format: "zstd" });
  const blob = await fetch(`${readState().baseURL}/images/${target.id}/versions/${v.version}/blob`, { headers: { authorization: `Bearer ${researcher.token}` } });
  expect(blob.status).toBe(200);
  const disk = zstdDecompressSync(Buffer.from(await blob.arrayBuffer()));
  // The machine was rebooted into its disk after the capture and powered itself off; the disk is unchanged since.
  await expect.poll(() => machine.running(), { timeout: 90_000 }).toBe(false);
  expect(sha256Of(disk)).toBe(await sha256File(machine.disk));
});

test("[DEPLOY-UEFI] OVMF + iPXE: a zstd image is decompressed on the fly and the machine boots it through UEFI", async () => {
  test.setTimeout(240_000);
  const { machine, host } = await newMachine({ uefi: true });
  const run = await deploy(host.id, { action: "deploy_image", imageId: image.id, imageVersion: versions.zstd.version });
  const done = await finished(run.id, machine, 180_000);
  expect(done.state, done.failureReason).toBe("done");
  await markerOnConsole(machine, 120_000);
  expect(sha256Of(await headOf(machine.disk, versions.raw.sizeBytes))).toBe(versions.raw.sha256);
});

test("[DEPLOY-CORRUPT] a blob corrupted in storage: the agent's checksum fails the run with that reason and the host is not deployed", async () => {
  test.setTimeout(240_000);
  // A separate image version whose stored bytes are then damaged (one byte flipped on disk).
  const broken = await createImage(researcher.token, uniqueName("broken"));
  const v = await uploadVersion(researcher.token, broken.id, (await compressImage(rawImage, "gz")).path);
  const sql = await connectDatabase();
  const [row] = await sql`select storage_key from image_versions where image_id = ${broken.id} and version = ${v.version}`;
  await sql.end();
  const file = path.join(readState().dataDir, "images", row!.storage_key);
  const fh = await fs.open(file, "r+");
  const b = Buffer.alloc(1);
  await fh.read(b, 0, 1, 4096);
  b[0] = b[0]! ^ 0xff;
  await fh.write(b, 0, 1, 4096);
  await fh.close();

  const { machine, host } = await newMachine();
  const run = await deploy(host.id, { action: "deploy_image", imageId: broken.id, imageVersion: v.version });
  const failed = await finished(run.id, machine, 150_000);
  expect(failed.state).toBe("failed");
  expect(failed.provisioning).toBe("failed");
  expect(failed.failureReason).toMatch(/checksum mismatch: expected [0-9a-f]{64}, got [0-9a-f]{64}|the image is corrupt/);
  expect(failed.failureReason).toContain(v.sha256);
  // The disk was left without a partition table: its first MiB (the image's MBR) is never written.
  expect((await headOf(machine.disk, 1024 * 1024)).equals(Buffer.alloc(1024 * 1024))).toBe(true);
  // Kiln will not boot it either: the next network boot halts, saying why.
  expect(await apiOk(researcher.token, "GET", `/api/v1/hosts/${host.id}/next-boot`, undefined, 200)).toMatchObject({ kind: "halt", deploymentId: run.id, reason: expect.stringContaining("checksum mismatch") });
  const answer = await (await fetch(`${readState().baseURL}/boot/${machine.mac.replace(/:/g, "-")}`)).text();
  expect(answer).toContain("Kiln: the last write to this machine's disk failed or was cancelled:");
  expect(answer).not.toContain("sanboot");
  // The worker re-checked the stored blob: the version failed with the reason, and nothing deploys it again.
  await expect
    .poll(async () => (await api(researcher.token, "GET", `/api/v1/images/${broken.id}/versions/${v.version}`)).body, { timeout: 60_000 })
    .toMatchObject({ state: "failed", failureReason: expect.stringMatching(/^the stored bytes no longer match their checksum/) });
  const refused = await api(researcher.token, "POST", `/api/v1/hosts/${host.id}/deployments`, { action: "deploy_image", imageId: broken.id, imageVersion: v.version });
  expect(refused.status).toBe(400);
  expect(JSON.stringify(refused.body)).toMatch(/is not ready \(failed: the stored bytes no longer match their checksum/);
  // The holder boots the disk anyway: local boot again.
  expect(await apiOk(researcher.token, "POST", `/api/v1/hosts/${host.id}/next-boot`, undefined, 200)).toEqual({ kind: "disk" });
  expect(await (await fetch(`${readState().baseURL}/boot/${machine.mac.replace(/:/g, "-")}`)).text()).toContain("this machine boots from its local disk");
});

test("[DEPLOY-RESTART] a gzip image; Kiln's boot server (which sends the bytes) is killed mid-download and restarted by the launcher: the agent resumes with Range, gunzip goes on, the deploy succeeds", async () => {
  test.setTimeout(240_000);
  const pidFile = path.join(readState().dataDir, "run", "boot.pid");
  const oldPid = Number(readFileSync(pidFile, "utf8"));
  expect(isAlive(oldPid)).toBe(true);
  let killedAt = 0;
  // The relay only picks the moment (4 MiB into the image); the outage is a real one.
  const relay = await startRelay(kilnPort(), {
    afterBytes: 4 * 1024 * 1024,
    onHold: () => {
      killedAt = Date.now();
      process.kill(oldPid, "SIGKILL");
    },
  });
  try {
    const { machine, host } = await newMachine({ port: relay.port });
    const run = await deploy(host.id, { action: "deploy_image", imageId: image.id, imageVersion: versions.gzip.version });
    const done = await finished(run.id, machine, 180_000);
    expect(relay.held).toBe(true);
    expect(killedAt).toBeGreaterThan(0);
    expect(done.state, done.failureReason).toBe("done");
    expect(done.logs.some((l: any) => /^download interrupted at byte \d+ .*resuming from there/.test(l.line))).toBe(true);
    const newPid = Number(readFileSync(pidFile, "utf8"));
    expect(newPid).not.toBe(oldPid);
    await markerOnConsole(machine, 90_000);
    expect(sha256Of(await headOf(machine.disk, versions.raw.sizeBytes))).toBe(versions.raw.sha256);
  } finally {
    await relay.close();
  }
});

test("[DEPLOY-NOBOOT] a machine whose network boot never reaches Kiln: the run fails with the “no boot request” reason", async () => {
  test.setTimeout(180_000);
  // Its DHCP answer points at a server that is not there (a closed port), as a wrong
  // next-server would: iPXE starts, its request goes nowhere, Kiln never hears of it.
  const closed = await startRelay(1);
  const port = closed.port;
  await closed.close();
  const { machine, host } = await newMachine({ port });
  const run = await deploy(host.id, { action: "deploy_image", imageId: image.id, imageVersion: versions.raw.version });
  const failed = await finished(run.id, machine, 150_000);
  expect(failed.state).toBe("failed");
  expect(failed.steps.find((s: any) => s.name === "power_on").state).toBe("done");
  expect(failed.failureReason).toMatch(/^Network boot: no boot request from the machine within \d+ seconds — check PXE\/DHCP/);
});
