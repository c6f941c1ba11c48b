// An upload whose bytes are all stored is finished exactly once, whoever notices: tus's own
// finish hook, a zero-length PATCH at the end offset, the worker's start-up/housekeeping scan,
// or several of them at once. "Stranded" uploads are made the honest way: the last bytes go
// through the same tus datastore write the PATCH handler does, and the finish hook that would
// follow it is simply never called — what a process killed between the two leaves behind.
import "@/test/harness/route-handler";
import { createHash, randomBytes } from "node:crypto";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getImageUploadRow, getImageVersionRow, userStorageBytes } from "@/db/queries/images";
import type { UserRow } from "@/db/schema";
import { actorOf } from "@/lib/access/actor";
import { createApiToken } from "@/lib/auth/api-tokens";
import { stopJobSender } from "@/lib/jobs/enqueue";
import { useTestDb } from "@/test/harness/database";
import { setTestEnvDefaults } from "@/test/harness/env";
import { createActiveUser } from "@/test/harness/fixtures";
import { startRouteServer, type RouteServer } from "@/test/harness/http-server";
import { readyAuditCount, settledVersion } from "@/test/harness/images";
import { tusCreate, tusHead, tusPatch } from "@/test/harness/tus";
import { startWorker } from "@/workers/worker";
import { finishStrandedUploads, imageUploadsHousekeeping } from "./housekeeping";
import { createImage } from "./images";
import { getImageStorage } from "./storage";
import { finishImageUpload, finishStoredUpload } from "./uploads";
import { handleUploadRequest } from "@/lib/uploads/tus-server";
import { verifyImageVersion } from "./verify";

const t = await useTestDb();
const dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), "kiln-upload-finish-"));
setTestEnvDefaults({ KILN_DATA_DIR: dataDir });

let server: RouteServer;
let alice: { user: UserRow; token: string };
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

beforeAll(async () => {
  server = await startRouteServer((req) => handleUploadRequest(req));
  const { user } = await createActiveUser(t.db);
  alice = { user, token: (await createApiToken(t.db, user.id, { name: "uploads" })).token };
});

afterAll(async () => {
  await server?.close();
  await stopJobSender();
  await fsp.rm(dataDir, { recursive: true, force: true });
});

/** An upload of `data` whose bytes are all stored and whose finish step never ran. */
async function strandedUpload(data: Buffer, tail = 100_000) {
  const image = await createImage(t.db, actorOf(alice.user, null), { name: `img-${randomBytes(3).toString("hex")}` });
  const created = await tusCreate(`${server.url}/api/uploads`, alice.token, data.length, { imageId: image.id, filename: "disk.img", sha256: sha(data) });
  expect(created.status, created.body).toBe(201);
  const url = created.location!;
  const id = url.split("/").pop()!;
  const head = data.length - tail;
  expect((await tusPatch(url, alice.token, 0, data.subarray(0, head))).status).toBe(204);
  // The store write of the last PATCH, without the hook that follows it.
  expect(await getImageStorage().datastore.write(Readable.from([data.subarray(head)]), id, head)).toBe(data.length);
  return { imageId: image.id, version: 1, id, url };
}

/** An upload still receiving bytes: 200 000 of its 500 000 stored. */
async function partialUpload() {
  const image = await createImage(t.db, actorOf(alice.user, null), { name: `partial-${randomBytes(3).toString("hex")}` });
  const created = await tusCreate(`${server.url}/api/uploads`, alice.token, 500_000, { imageId: image.id, filename: "p.img" });
  expect((await tusPatch(created.location!, alice.token, 0, randomBytes(200_000))).status).toBe(204);
  return { imageId: image.id, version: 1, url: created.location! };
}

const settled = (imageId: string, version: number) => settledVersion(t.db, { imageId, version });

describe("stranded uploads", () => {
  it("a zero-length PATCH at the end offset finishes it: verified, ready once, sha256 equal", async () => {
    const worker = await startWorker(t.url, { pollingIntervalSeconds: 0.5 });
    try {
      const data = randomBytes(2 * 1024 * 1024 + 11);
      const s = await strandedUpload(data);
      // What the crash leaves: every byte stored, the version still uploading.
      expect((await getImageStorage().datastore.getUpload(s.id)).offset).toBe(data.length);
      expect((await getImageVersionRow(t.db, s))!.state).toBe("uploading");
      expect((await getImageUploadRow(t.db, s.id))!.completedAt).toBeNull();

      const patched = await tusPatch(s.url, alice.token, data.length, Buffer.alloc(0));
      expect(patched.status, patched.body).toBe(204);
      expect(patched.headers["upload-offset"]).toBe(String(data.length));
      expect(patched.headers["kiln-image-version"]).toBe("1");
      const v = await settled(s.imageId, 1);
      expect(v).toMatchObject({ state: "ready", sha256: sha(data), sizeBytes: data.length });
      expect(await readyAuditCount(t.db, s.imageId)).toBe(1);
      // Sent again after it was finished: the upload is gone (404), nothing changes.
      expect((await tusPatch(s.url, alice.token, data.length, Buffer.alloc(0))).status).toBe(404);
      expect(await readyAuditCount(t.db, s.imageId)).toBe(1);
    } finally {
      await worker.stop();
    }
  });

  it("a HEAD that finds every byte stored finishes it (a resuming tus client then sends nothing more)", async () => {
    const worker = await startWorker(t.url, { pollingIntervalSeconds: 0.5 });
    try {
      const data = randomBytes(1024 * 1024 + 9);
      const s = await strandedUpload(data);
      expect((await getImageVersionRow(t.db, s))!.state).toBe("uploading");
      const head = await tusHead(s.url, alice.token);
      expect(head.status).toBe(200);
      expect(head.offset).toBe(data.length);
      expect((await getImageVersionRow(t.db, s))!.state).not.toBe("uploading");
      expect(await settled(s.imageId, 1)).toMatchObject({ state: "ready", sha256: sha(data) });
      expect(await readyAuditCount(t.db, s.imageId)).toBe(1);
      // A HEAD of an upload still receiving bytes changes nothing.
      const partial = await partialUpload();
      expect((await tusHead(partial.url, alice.token)).offset).toBe(200_000);
      expect((await getImageVersionRow(t.db, partial))!.state).toBe("uploading");
    } finally {
      await worker.stop();
    }
  });

  it("the housekeeping scan finishes it; a second scan finds nothing", async () => {
    const worker = await startWorker(t.url, { pollingIntervalSeconds: 0.5 });
    try {
      const data = randomBytes(1024 * 1024 + 5);
      const s = await strandedUpload(data);
      // An upload still receiving bytes is left alone.
      const partial = await partialUpload();

      expect(await finishStrandedUploads(t.db)).toBe(1);
      expect(await finishStrandedUploads(t.db)).toBe(0);
      const v = await settled(s.imageId, 1);
      expect(v).toMatchObject({ state: "ready", sha256: sha(data) });
      expect(await readyAuditCount(t.db, s.imageId)).toBe(1);
      expect((await getImageVersionRow(t.db, partial))!.state).toBe("uploading");
      expect((await imageUploadsHousekeeping(t.db)).finished).toBe(0);
    } finally {
      await worker.stop();
    }
  });

  it("concurrent finishers (hook, PATCH, scan, two verifiers) make it ready exactly once: one audit entry, quota counted once, the blob kept", async () => {
    const data = randomBytes(3 * 1024 * 1024 + 1);
    const s = await strandedUpload(data);
    const usedBefore = await userStorageBytes(t.db, alice.user.id);
    const finishers = await Promise.all([
      finishImageUpload(t.db, s.id, new Date(), data.length),
      finishStoredUpload(t.db, s.id),
      finishStrandedUploads(t.db),
      tusPatch(s.url, alice.token, data.length, Buffer.alloc(0)),
    ]);
    const moved = [finishers[0]?.moved, finishers[1]?.moved, finishers[2] === 1, false].filter(Boolean).length;
    // The PATCH may be the one that moved it (then the other three report nothing moved).
    expect(moved).toBeLessThanOrEqual(1);
    expect((await getImageVersionRow(t.db, s))!.state).toBe("verifying");
    // Two verifications at once (the queued job and housekeeping's retry, say).
    const results = await Promise.all([verifyImageVersion(t.db, s), verifyImageVersion(t.db, s)].map((p) => p.catch((e: Error) => ({ state: "error", reason: e.message }))));
    expect(results.filter((r) => r.state === "ready")).toHaveLength(1);
    const v = (await getImageVersionRow(t.db, s))!;
    expect(v).toMatchObject({ state: "ready", sha256: sha(data), sizeBytes: data.length });
    expect(await readyAuditCount(t.db, s.imageId)).toBe(1);
    expect(await userStorageBytes(t.db, alice.user.id)).toBe(usedBefore);
    // The loser did not remove the winner's bytes.
    const stored = await fsp.readFile(getImageStorage().localBlobPath(v.storageKey!)!);
    expect(sha(stored)).toBe(sha(data));
  });
});
