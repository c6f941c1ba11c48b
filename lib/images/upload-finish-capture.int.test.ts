// A disk capture whose last chunk was stored but whose finish step never ran (the web process
// died in between): the agent's retry finds the offset complete and reports done; Kiln then
// finishes the upload itself instead of answering "not complete", the worker verifies it, and
// the run is done with the version ready once. The last chunk goes through what tus's PATCH
// handler does — the capture's quota reservation, the declared length, the store write — and
// the finish hook that would follow is never called.
import { startProvisioningSetup, seedReadyImage, type ProvisioningSetup } from "@/test/harness/provisioning";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listAudit } from "@/db/queries/audit";
import { getImageUploadOfVersion, getImageVersionRow } from "@/db/queries/images";
import { checkCaptureRequest, getCaptureDeployment } from "@/lib/deployments/capture";
import { getDeployment } from "@/lib/deployments/views";
import { startDeployment } from "@/lib/deployments/start";
import { stopJobSender } from "@/lib/jobs/enqueue";
import { useTestDb } from "@/test/harness/database";
import { setTestEnvDefaults } from "@/test/harness/env";
import { finishStrandedUploads } from "./housekeeping";
import { getImageStorage } from "./storage";
import { verifyImageVersion } from "./verify";

const t = await useTestDb();
const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-capture-finish-"));
setTestEnvDefaults({ KILN_DATA_DIR: dataDir });

let setup: ProvisioningSetup;
beforeAll(async () => {
  setup = await startProvisioningSetup(t.db, { name: "capfin", macByte: 0xcf });
});
afterAll(async () => {
  await setup?.close();
  await stopJobSender();
  await fs.rm(dataDir, { recursive: true, force: true });
});

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

describe("a capture stranded after its last byte", () => {
  for (const finisher of ["done", "HEAD"] as const)
  it(`is finished by the agent's ${finisher === "done" ? "done report" : "HEAD (its retry after the failed PATCH)"}: verified, ready once, the run done`, async () => {
    const { hostId, machine } = await setup.heldHost();
    const img = await seedReadyImage(t.db, { ownerUserId: setup.holder.user!.id });
    const run = await startDeployment(t.db, setup.holder, hostId, { action: "capture_disk", imageId: img.image.id });
    await machine.boot();
    await machine.instructions();

    const disk = Buffer.concat([Buffer.alloc(510), Buffer.from([0x55, 0xaa]), randomBytes(600 * 1024)]);
    const created = await machine.tus("POST", "/api/uploads", { "Upload-Defer-Length": "1" });
    expect(created.status).toBe(201);
    const location = created.headers.get("location")!;
    const id = location.split("/").pop()!;
    const chunk = 256 * 1024;
    const lastAt = 2 * chunk;
    for (let at = 0; at < lastAt; at += chunk) {
      const res = await machine.tus("PATCH", location, { "Content-Type": "application/offset+octet-stream", "Upload-Offset": String(at) }, disk.subarray(at, at + chunk));
      expect(res.status).toBe(204);
    }
    // The last PATCH as tus handles it, up to the moment the process dies: the request check
    // (the quota reservation), the declared length, the bytes in the store — no finish hook.
    const found = await getCaptureDeployment(t.db, `Kiln-Run ${machine.mac} ${machine.token}`);
    await checkCaptureRequest(t.db, found, { uploadId: id, method: "PATCH", offset: lastAt, bodyBytes: disk.length - lastAt });
    const store = getImageStorage().datastore;
    await store.declareUploadLength(id, disk.length);
    expect(await store.write(Readable.from([disk.subarray(lastAt)]), id, lastAt)).toBe(disk.length);

    expect((await store.getUpload(id)).offset).toBe(disk.length);
    expect((await getImageVersionRow(t.db, { imageId: img.image.id, version: 2 }))!.state).toBe("uploading");

    if (finisher === "HEAD") {
      // The agent's retry: HEAD says everything is there, with the length declared — and finishes it.
      const head = await machine.tus("HEAD", location);
      expect(head.headers.get("upload-offset")).toBe(String(disk.length));
      expect(head.headers.get("upload-length")).toBe(String(disk.length));
      expect((await getImageVersionRow(t.db, { imageId: img.image.id, version: 2 }))!.state).toBe("verifying");
    }

    // done finishes it if nothing did (202 while the worker verifies) instead of "not complete".
    const early = await machine.done({ sha256: sha(disk), bytes: disk.length });
    expect(early.status, early.text).toBe(202);
    expect(await getImageVersionRow(t.db, { imageId: img.image.id, version: 2 })).toMatchObject({ state: "verifying", sizeBytes: disk.length });
    expect(await getImageUploadOfVersion(t.db, { imageId: img.image.id, version: 2 })).toMatchObject({ lengthBytes: disk.length });
    // A housekeeping scan at the same time finds nothing left to finish.
    expect(await finishStrandedUploads(t.db)).toBe(0);

    expect(await verifyImageVersion(t.db, { imageId: img.image.id, version: 2 })).toMatchObject({ state: "ready", sha256: sha(disk) });
    const answer = await machine.done({ sha256: sha(disk), bytes: disk.length });
    expect(answer.status, answer.text).toBe(200);
    const view = await getDeployment(t.db, setup.holder, run.id);
    expect(view.state).toBe("done");
    if (finisher === "done") expect(view.logs.map((l) => l.line)).toContain(`received ${disk.length} bytes (the upload's finish step had not run); verifying version 2`);
    expect(await getImageVersionRow(t.db, { imageId: img.image.id, version: 2 })).toMatchObject({ state: "ready", sha256: sha(disk), sizeBytes: disk.length });
    expect((await listAudit(t.db, { action: "image.version.ready", targetId: img.image.id, limit: 10, offset: 0 })).rows.filter((r) => (r.data as { version?: number })?.version === 2)).toHaveLength(1);
  });
});
