// Stranded uploads on S3 (Swift's s3api, test/harness/s3-server.ts): the bytes are all in the
// bucket but the finish step never ran. Two places a crash can land: after tus completed the
// multipart upload (the object is there), and after the last part but before the completion
// (only parts). The second is made by letting the store's completion throw once — exactly the
// call a killed process never made. The worker's scan finishes both: ready once, the object's
// bytes the source's, no multipart upload left open.
import "@/test/harness/route-handler";
import { createHash, randomBytes } from "node:crypto";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getImageVersionRow } from "@/db/queries/images";
import type { UserRow } from "@/db/schema";
import { actorOf } from "@/lib/access/actor";
import { createApiToken } from "@/lib/auth/api-tokens";
import { stopJobSender } from "@/lib/jobs/enqueue";
import { useTestDb } from "@/test/harness/database";
import { setTestEnvDefaults } from "@/test/harness/env";
import { createActiveUser } from "@/test/harness/fixtures";
import { startRouteServer, type RouteServer } from "@/test/harness/http-server";
import { readyAuditCount } from "@/test/harness/images";
import { startS3Server, type S3ServerHandle } from "@/test/harness/s3-server";
import { tusCreate, tusHead, tusPatch } from "@/test/harness/tus";
import { finishStrandedUploads } from "./housekeeping";
import { createImage } from "./images";
import { getImageStorage } from "./storage";
import { handleUploadRequest } from "@/lib/uploads/tus-server";
import { verifyImageVersion } from "./verify";

const MiB = 1024 * 1024;
const t = await useTestDb();
const dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), "kiln-s3-finish-"));
const s3: S3ServerHandle = await startS3Server();
setTestEnvDefaults({ KILN_DATA_DIR: dataDir, ...s3.kilnEnv() });

let server: RouteServer;
let owner: { user: UserRow; token: string };
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

beforeAll(async () => {
  server = await startRouteServer((req) => handleUploadRequest(req));
  const { user } = await createActiveUser(t.db);
  owner = { user, token: (await createApiToken(t.db, user.id, { name: "s3" })).token };
});
afterAll(async () => {
  await server?.close();
  await stopJobSender();
  await s3.stop();
  await fsp.rm(dataDir, { recursive: true, force: true });
});

type Store = { finishMultipartUpload: (...args: unknown[]) => Promise<unknown> };

/** An upload whose last bytes went into the bucket through the store, with no finish hook after. */
async function stranded(data: Buffer, opts: { completed: boolean }) {
  const image = await createImage(t.db, actorOf(owner.user, null), { name: `s3-${randomBytes(3).toString("hex")}` });
  const created = await tusCreate(`${server.url}/api/uploads`, owner.token, data.length, { imageId: image.id, filename: "disk.img", sha256: sha(data) });
  expect(created.status, created.body).toBe(201);
  const id = created.location!.split("/").pop()!;
  const head = 10 * MiB;
  expect((await tusPatch(created.location!, owner.token, 0, data.subarray(0, head))).status).toBe(204);
  const store = getImageStorage().datastore as unknown as Store;
  const complete = store.finishMultipartUpload;
  if (!opts.completed) store.finishMultipartUpload = async () => Promise.reject(new Error("killed before the completion"));
  try {
    const wrote = await getImageStorage().datastore.write(Readable.from([data.subarray(head)]), id, head).catch((e: Error) => e.message);
    expect(wrote).toBe(opts.completed ? data.length : "killed before the completion");
  } finally {
    store.finishMultipartUpload = complete;
  }
  return { imageId: image.id, id, url: created.location! };
}

async function openMultipart(): Promise<string[]> {
  return ((await s3.client.listMultipartUploads({ Bucket: s3.bucket })).Uploads ?? []).map((u) => u.Key!);
}

describe("stranded uploads on S3", () => {
  for (const completed of [true, false]) {
    it(`are finished by the worker's scan when the crash came ${completed ? "after" : "before"} the multipart completion`, async () => {
      const data = randomBytes(13 * MiB + 5);
      const s = await stranded(data, { completed });
      expect(await openMultipart()).toEqual(completed ? [] : [s.id]);
      // Every byte is in the bucket (what a HEAD would report, and act on), the version still uploading.
      expect((await getImageStorage().datastore.getUpload(s.id)).offset).toBe(data.length);
      expect((await getImageVersionRow(t.db, { imageId: s.imageId, version: 1 }))!.state).toBe("uploading");

      expect(await finishStrandedUploads(t.db)).toBe(1);
      expect(await finishStrandedUploads(t.db)).toBe(0);
      expect(await openMultipart()).toEqual([]);
      expect(await verifyImageVersion(t.db, { imageId: s.imageId, version: 1 })).toMatchObject({ state: "ready", sha256: sha(data) });
      const v = (await getImageVersionRow(t.db, { imageId: s.imageId, version: 1 }))!;
      const object = await s3.client.getObject({ Bucket: s3.bucket, Key: v.storageKey! });
      expect(sha(Buffer.from(await object.Body!.transformToByteArray()))).toBe(sha(data));
      expect(await readyAuditCount(t.db, s.imageId)).toBe(1);
    });
  }

  for (const completed of [false, true]) it(`a zero-length PATCH at the end offset finishes one whose crash came ${completed ? "after" : "before"} the completion`, async () => {
    const data = randomBytes(11 * MiB + 3);
    const s = await stranded(data, { completed });
    const patched = await tusPatch(s.url, owner.token, data.length, Buffer.alloc(0));
    expect(patched.status, patched.body).toBe(204);
    expect(await openMultipart()).toEqual([]);
    expect((await getImageVersionRow(t.db, { imageId: s.imageId, version: 1 }))!.state).toBe("verifying");
    expect(await verifyImageVersion(t.db, { imageId: s.imageId, version: 1 })).toMatchObject({ state: "ready", sha256: sha(data) });
  });

  it("a HEAD that finds every part in the bucket completes and finishes one whose crash came before the completion", async () => {
    const data = randomBytes(11 * MiB + 7);
    const s = await stranded(data, { completed: false });
    const head = await tusHead(s.url, owner.token);
    expect(head.status).toBe(200);
    expect(head.offset).toBe(data.length);
    expect(await openMultipart()).toEqual([]);
    expect((await getImageVersionRow(t.db, { imageId: s.imageId, version: 1 }))!.state).toBe("verifying");
    expect(await verifyImageVersion(t.db, { imageId: s.imageId, version: 1 })).toMatchObject({ state: "ready", sha256: sha(data) });
  });

  it("two verifications at once leave the object in the bucket (its key is the upload's)", async () => {
    const data = randomBytes(12 * MiB + 1);
    const s = await stranded(data, { completed: true });
    expect(await finishStrandedUploads(t.db)).toBe(1);
    const results = await Promise.all([0, 1].map(() => verifyImageVersion(t.db, { imageId: s.imageId, version: 1 }).catch((e: Error) => ({ state: `error: ${e.message}` }))));
    expect(results.filter((r) => r.state === "ready")).toHaveLength(1);
    const v = (await getImageVersionRow(t.db, { imageId: s.imageId, version: 1 }))!;
    expect(v.state).toBe("ready");
    expect(await getImageStorage().blobSize(v.storageKey!)).toBe(data.length);
    expect(await readyAuditCount(t.db, s.imageId)).toBe(1);
  });
});
