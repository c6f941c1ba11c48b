// A capture_disk run's upload, against Kiln's real tus endpoint and boot routes over HTTP:
// the agent's run token as its credential, a deferred-length upload sent in chunks, a PATCH
// cut off mid-body and resumed from the server's offset, quotas counted as bytes arrive,
// the run done only when the worker's verification agrees with the agent's sha256.
import { seedReadyImage, startProvisioningSetup, type ProvisioningSetup } from "@/test/harness/provisioning";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getImageRow, getImageUploadOfVersion, getImageVersionRow } from "@/db/queries/images";
import type { Actor } from "@/lib/access/actor";
import { createApiToken } from "@/lib/auth/api-tokens";
import { stopJobSender } from "@/lib/jobs/enqueue";
import { remainingUserQuota } from "@/lib/images/images";
import { getImageStorage } from "@/lib/images/storage";
import { verifyImageVersion } from "@/lib/images/verify";
import { useTestDb } from "@/test/harness/database";
import { setTestEnvDefaults } from "@/test/harness/env";
import type { RouteServer } from "@/test/harness/http-server";
import { checkDeadlines } from "./worker";
import { getDeployment } from "./views";
import { startDeployment } from "./start";

const t = await useTestDb();
const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-capture-"));
setTestEnvDefaults({ KILN_DATA_DIR: dataDir });

let setup: ProvisioningSetup;
let holder: Actor;
let server: RouteServer;
let holderToken: string;

beforeAll(async () => {
  setup = await startProvisioningSetup(t.db, { name: "cap", macByte: 0xca });
  ({ holder, server } = setup);
  holderToken = (await createApiToken(t.db, holder.user!.id, { name: "capture test" })).token;
});
afterAll(async () => {
  await setup?.close();
  await stopJobSender();
  await fs.rm(dataDir, { recursive: true, force: true });
});

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** A capture run on a host leased to the holder, booted, its agent started. */
async function captureRun() {
  const { hostId, name, machine } = await setup.heldHost();
  const img = await seedReadyImage(t.db, { ownerUserId: holder.user!.id });
  const run = await startDeployment(t.db, holder, hostId, { action: "capture_disk", imageId: img.image.id });
  await machine.boot();
  const instructions = await machine.instructions();
  return { run, machine, image: img.image, host: { id: hostId, name }, instructions };
}

const version2 = (imageId: string) => getImageVersionRow(t.db, { imageId, version: 2 });

describe("a capture through tus", () => {
  it("the agent uploads the disk in chunks with its run token; the run is done when the verified version matches its sha256", async () => {
    const { run, machine, image, host, instructions } = await captureRun();
    expect(instructions.capture).toEqual({ uploadUrl: `${server.url}/api/uploads`, authorization: `Kiln-Run ${machine.mac} ${machine.token}`, chunkMiB: 32 });
    const env = await machine.file("agent.env");
    expect(env.text).toContain(`KILN_UPLOAD_URL='${server.url}/api/uploads'`);
    expect(env.text).toContain(`KILN_UPLOAD_AUTH='Kiln-Run ${machine.mac} ${machine.token}'`);

    const disk = Buffer.concat([Buffer.alloc(510), Buffer.from([0x55, 0xaa]), randomBytes(700 * 1024)]);
    const sent = await machine.capture(disk);
    expect(sent.location).toMatch(/^\/api\/uploads\/[0-9a-f]+$/);
    expect(await version2(image.id)).toMatchObject({ state: "verifying", sizeBytes: disk.length });
    expect((await getImageUploadOfVersion(t.db, { imageId: image.id, version: 2 }))).toMatchObject({ deploymentId: run.id, lengthBytes: disk.length, userId: holder.user!.id });
    expect((await getDeployment(t.db, holder, run.id)).steps.map((s) => `${s.name}:${s.state}`)).toEqual(["power_on:done", "boot:done", "agent:done", "capture:running"]);

    // Reported before the worker verified: 202, and Kiln remembers the agent's sha256.
    const early = await machine.done({ sha256: sent.sha256, bytes: sent.bytes });
    expect(early.status).toBe(202);
    expect(early.json()).toMatchObject({ state: "verifying" });
    expect(await version2(image.id)).toMatchObject({ state: "verifying", expectedSha256: sent.sha256 });

    expect(await verifyImageVersion(t.db, { imageId: image.id, version: 2 })).toMatchObject({ state: "ready", sha256: sent.sha256 });
    const answer = await machine.done({ sha256: sent.sha256, bytes: sent.bytes });
    expect(answer.status).toBe(200);
    expect(answer.json()).toMatchObject({ imageId: image.id, version: 2, sha256: sent.sha256, bytes: disk.length });

    const view = await getDeployment(t.db, holder, run.id);
    expect(view).toMatchObject({ state: "done", provisioning: "captured", image: { id: image.id, version: 2 } });
    expect(view.logs.map((l) => l.line)).toEqual(expect.arrayContaining([`received ${disk.length} bytes; verifying version 2`, `upload complete: ${disk.length} bytes, sha256 ${sent.sha256}; Kiln verifies version 2 of ${image.name}`]));
    expect(await version2(image.id)).toMatchObject({ state: "ready", sha256: sha(disk), sizeBytes: disk.length, uploadedByUserId: holder.user!.id, notes: `captured from ${host.name} (deployment ${run.id})` });
    expect((await getImageRow(t.db, image.id))?.latestVersion).toBe(2);
    const stored = await fs.readFile(path.join(dataDir, "images", (await version2(image.id))!.storageKey!));
    expect(stored.equals(disk)).toBe(true);
    // The run has ended: its token uploads nothing more, and a repeated done changes nothing.
    const again = await machine.tus("POST", "/api/uploads", { "Upload-Defer-Length": "1" });
    expect(again.status).toBe(409);
    expect((await again.json()).error.message).toBe("This run has ended (done); its token uploads nothing more.");
    expect((await machine.done({ sha256: sent.sha256 })).status).toBe(200);
  });

  it("a PATCH cut off mid-chunk is resumed from the offset HEAD reports; the stored bytes are the disk's", async () => {
    const { run, machine, image } = await captureRun();
    const disk = randomBytes(3 * 1024 * 1024 + 12345);
    const created = await machine.tus("POST", "/api/uploads", { "Upload-Defer-Length": "1" });
    expect(created.status).toBe(201);
    const location = created.headers.get("location")!;
    const first = disk.subarray(0, 2 * 1024 * 1024);
    // The connection drops after 1 MiB of a 2 MiB PATCH.
    await new Promise<void>((resolve) => {
      const req = http.request(`${server.url}${location}`, {
        method: "PATCH",
        headers: { "tus-resumable": "1.0.0", authorization: `Kiln-Run ${machine.mac} ${machine.token}`, "content-type": "application/offset+octet-stream", "upload-offset": "0", "content-length": String(first.length) },
      });
      req.on("error", () => resolve());
      req.on("response", () => resolve());
      req.write(first.subarray(0, 1024 * 1024), () => setTimeout(() => (req.destroy(), resolve()), 300));
    });
    let head = await machine.tus("HEAD", location);
    let offset = 0;
    for (let i = 0; i < 50; i++) {
      head = await machine.tus("HEAD", location);
      offset = Number(head.headers.get("upload-offset"));
      if (offset > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(head.status).toBe(200);
    expect(head.headers.get("upload-defer-length")).toBe("1");
    expect(offset).toBeGreaterThan(0);
    expect(offset).toBeLessThanOrEqual(1024 * 1024);
    // The agent sends the rest of that chunk from the server's offset, then the last one with the length.
    const rest = await machine.tus("PATCH", location, { "Content-Type": "application/offset+octet-stream", "Upload-Offset": String(offset) }, disk.subarray(offset, first.length));
    expect(rest.status).toBe(204);
    const last = await machine.tus("PATCH", location, { "Content-Type": "application/offset+octet-stream", "Upload-Offset": String(first.length), "Upload-Length": String(disk.length) }, disk.subarray(first.length));
    expect(last.status).toBe(204);
    expect(await verifyImageVersion(t.db, { imageId: image.id, version: 2 })).toMatchObject({ state: "ready", sha256: sha(disk) });
    expect((await machine.done({ sha256: sha(disk), bytes: disk.length })).status).toBe(200);
    expect((await getDeployment(t.db, holder, run.id)).state).toBe("done");
  });

  it("refuses what is not the run's: a wrong token, another action's token, a person's upload, a person on the capture, a second creation, a cancel", async () => {
    const { machine, image } = await captureRun();
    const wrong = await fetch(`${server.url}/api/uploads`, { method: "POST", headers: { "Tus-Resumable": "1.0.0", "Upload-Defer-Length": "1", Authorization: `Kiln-Run ${machine.mac} ${"x".repeat(43)}` } });
    expect(wrong.status).toBe(401);
    expect((await wrong.json()).error.message).toBe("This run token is not valid (or not for this machine).");
    const foreignMac = await fetch(`${server.url}/api/uploads`, { method: "POST", headers: { "Tus-Resumable": "1.0.0", "Upload-Defer-Length": "1", Authorization: `Kiln-Run 52:54:00:ff:ff:ff ${machine.token}` } });
    expect(foreignMac.status).toBe(401);

    // A wipe run's token cannot upload images.
    const wipe = await setup.heldHost();
    await startDeployment(t.db, holder, wipe.hostId, { action: "wipe_disk" });
    const wiper = wipe.machine;
    await wiper.boot();
    const wipeUpload = await wiper.tus("POST", "/api/uploads", { "Upload-Defer-Length": "1" });
    expect(wipeUpload.status).toBe(403);
    expect((await wipeUpload.json()).error.message).toBe("This run does not capture a disk; its token cannot upload images.");

    // A person's own upload is not the run's to write.
    const own = await fetch(`${server.url}/api/uploads`, {
      method: "POST",
      headers: { "Tus-Resumable": "1.0.0", "Upload-Length": "1024", "Upload-Metadata": `imageId ${Buffer.from(image.id).toString("base64")},filename ${Buffer.from("a.img").toString("base64")}`, Authorization: `Bearer ${holderToken}` },
    });
    expect(own.status).toBe(201);
    const ownLocation = own.headers.get("location")!;
    expect((await machine.tus("HEAD", ownLocation)).status).toBe(404);
    const ownPatch = await machine.tus("PATCH", ownLocation, { "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0" }, randomBytes(1024));
    expect(ownPatch.status).toBe(404);
    expect((await ownPatch.json()).error.message).toBe("No such upload, or not this run's.");
    await fetch(`${server.url}${ownLocation}`, { method: "DELETE", headers: { "Tus-Resumable": "1.0.0", Authorization: `Bearer ${holderToken}` } });

    // The run's upload: not the holder's to write (only the machine's bytes become the capture).
    const created = await machine.tus("POST", "/api/uploads", { "Upload-Defer-Length": "1" });
    expect(created.status).toBe(201);
    const location = created.headers.get("location")!;
    const byHolder = await fetch(`${server.url}${location}`, { method: "PATCH", headers: { "Tus-Resumable": "1.0.0", "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0", Authorization: `Bearer ${holderToken}` }, body: new Uint8Array(randomBytes(1024)) });
    expect(byHolder.status).toBe(404);
    // A second creation names the first, so an agent whose answer was lost resumes it.
    const second = await machine.tus("POST", "/api/uploads", { "Upload-Defer-Length": "1" });
    expect(second.status).toBe(409);
    // (Version 2 went to the holder's own upload above: numbers are never reused.)
    expect((await second.json()).error.message).toBe(`This run already uploads version 3 at ${location}; resume that upload (HEAD, then PATCH) instead of creating another.`);
    const cancel = await machine.tus("DELETE", location);
    expect(cancel.status).toBe(403);
    expect((await machine.tus("HEAD", location)).headers.get("upload-offset")).toBe("0");
    expect(await getImageVersionRow(t.db, { imageId: image.id, version: 3 })).toMatchObject({ state: "uploading" });
  });

  it("counts bytes against the holder's quota as they arrive: the chunk that would overflow is refused with 413", async () => {
    const { run, machine, image } = await captureRun();
    // Room for 3 MiB more than the holder already stores (GB here is 10^9 bytes).
    const used = Math.floor(100 * 1e9) - (await remainingUserQuota(t.db, holder.user!.id));
    setTestEnvDefaults({ KILN_STORAGE_QUOTA_PER_USER_GB: String((used + 3 * 1024 * 1024) / 1e9) });
    try {
      const created = await machine.tus("POST", "/api/uploads", { "Upload-Defer-Length": "1" });
      const location = created.headers.get("location")!;
      const chunk = randomBytes(2 * 1024 * 1024);
      expect((await machine.tus("PATCH", location, { "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0" }, chunk)).status).toBe(204);
      const over = await machine.tus("PATCH", location, { "Content-Type": "application/offset+octet-stream", "Upload-Offset": String(chunk.length) }, chunk);
      expect(over.status).toBe(413);
      expect((await over.json()).error.message).toMatch(/^This upload \(.*\) would exceed your storage quota/);
      // Nothing of the refused chunk was stored; the reservation is what arrived.
      expect((await machine.tus("HEAD", location)).headers.get("upload-offset")).toBe(String(chunk.length));
      expect(await version2(image.id)).toMatchObject({ state: "uploading", sizeBytes: chunk.length });
      // The agent gives up and says why: the version is discarded with its bytes.
      expect((await machine.failed("Kiln refused the upload: the storage quota is full")).status).toBe(200);
      const view = await getDeployment(t.db, holder, run.id);
      expect(view).toMatchObject({ state: "failed", failureReason: "Capture the disk: Kiln refused the upload: the storage quota is full" });
      expect(await version2(image.id)).toMatchObject({ state: "failed", storageKey: null });
      expect(await getImageUploadOfVersion(t.db, { imageId: image.id, version: 2 })).toBeUndefined();
      expect(await getImageStorage().uploadedBytes(location.split("/").pop()!)).toBeNull();
      expect((await machine.tus("HEAD", location)).status).toBe(409);
    } finally {
      setTestEnvDefaults({ KILN_STORAGE_QUOTA_PER_USER_GB: undefined });
    }
  });

  it("a sha256 that differs from what Kiln stored fails the version and the run, saying so", async () => {
    const { run, machine, image } = await captureRun();
    const disk = randomBytes(300 * 1024);
    const sent = await machine.capture(disk);
    expect((await machine.done({ sha256: "0".repeat(64), bytes: sent.bytes })).status).toBe(202);
    expect(await verifyImageVersion(t.db, { imageId: image.id, version: 2 })).toMatchObject({ state: "failed" });
    const answer = await machine.done({ sha256: "0".repeat(64), bytes: sent.bytes });
    expect(answer.status).toBe(409);
    const reason = `the captured disk was not accepted: checksum mismatch: expected ${"0".repeat(64)}, got ${sent.sha256}`;
    expect(answer.json().error.message).toBe(reason);
    expect(await getDeployment(t.db, holder, run.id)).toMatchObject({ state: "failed", failureReason: `Capture the disk: ${reason}` });
    expect((await getImageRow(t.db, image.id))?.latestVersion).toBe(1);
  });

  it("done before the last byte is refused without ending the run; done with no upload at all fails it", async () => {
    const a = await captureRun();
    const created = await a.machine.tus("POST", "/api/uploads", { "Upload-Defer-Length": "1" });
    await a.machine.tus("PATCH", created.headers.get("location")!, { "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0" }, randomBytes(4096));
    const early = await a.machine.done({ bytes: 4096 });
    expect(early.status).toBe(409);
    expect(early.json().error.message).toMatch(/^The upload of version 2 of .* is not complete \(4096 bytes reserved\); send the rest, then report done\.$/);
    expect((await getDeployment(t.db, holder, a.run.id)).state).toBe("running");

    const b = await captureRun();
    const none = await b.machine.done({});
    expect(none.status).toBe(409);
    expect(await getDeployment(t.db, holder, b.run.id)).toMatchObject({ state: "failed", failureReason: "Capture the disk: the agent reported done, but no upload of the disk reached Kiln" });
  });

  it("a capture that never arrives fails the run at its deadline", async () => {
    const { run } = await captureRun();
    await checkDeadlines(t.db, { now: new Date(Date.now() + 601_000) });
    expect((await getDeployment(t.db, holder, run.id)).failureReason).toBe("Capture the disk: no progress from the agent for 10 minutes while capturing the disk");
  });
});
