// The S3 backend (KILN_IMAGE_STORAGE=s3, @tus/s3-store) against a real S3 service: OpenStack
// Swift's s3api on 127.0.0.1 (test/harness/s3-server.ts). Uploads go through the real tus route
// and are cut part-way and resumed, also by a fresh storage that knows nothing of the upload
// (a restarted web process: the offset comes from the bucket, ListParts and the pending
// partial part); the worker verifies them; the blob route serves the stored object with ranges;
// cancelling and deleting leave nothing behind in the bucket.
import "@/test/harness/route-handler";
import { bootRoutes, FakeMachine, recordingPowerPlugin } from "@/test/harness/provisioning";
import { execFileSync } from "node:child_process";
import { createHash, randomBytes, randomInt } from "node:crypto";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as blobRoute from "@/app/images/[id]/versions/[version]/blob/route";
import { getImageVersionRow } from "@/db/queries/images";
import type { ImageVersionRow, UserRow } from "@/db/schema";
import { actorOf } from "@/lib/access/actor";
import { createApiToken } from "@/lib/auth/api-tokens";
import { stopJobSender } from "@/lib/jobs/enqueue";
import { useTestDb } from "@/test/harness/database";
import { setTestEnvDefaults } from "@/test/harness/env";
import { createActiveUser } from "@/test/harness/fixtures";
import { startRouteServer, type RouteServer } from "@/test/harness/http-server";
import { settledVersion } from "@/test/harness/images";
import { startS3Server, type S3ServerHandle } from "@/test/harness/s3-server";
import { tusCreate, tusDelete, tusHead, tusPatch, tusPatchCut, tusResume } from "@/test/harness/tus";
import { startWorker } from "@/workers/worker";
import { getDeployment } from "@/lib/deployments/views";
import { startDeployment } from "@/lib/deployments/start";
import { createHost } from "@/lib/hosts/hosts";
import { createLease } from "@/lib/leases/leases";
import { addProjectMember, createProject } from "@/lib/projects/projects";
import { syncBuiltinTemplates } from "@/lib/templates/templates";
import { createImage, deleteImageVersion } from "./images";
import { createImageStorage, getImageStorage } from "./storage";
import { createUploadServer, handleUploadRequest } from "@/lib/uploads/tus-server";

const MiB = 1024 * 1024;
const t = await useTestDb();
const dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), "kiln-s3-test-"));
const s3: S3ServerHandle = await startS3Server();
setTestEnvDefaults({ KILN_DATA_DIR: dataDir, ...s3.kilnEnv() });

let server: RouteServer;
let worker: { stop: () => Promise<void> };
let owner: { user: UserRow; token: string };
let uploads = createUploadServer();

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** /api/uploads through the tus route's handler; blobs through the blob route, as Next would route them. */
async function route(req: Request): Promise<Response> {
  const url = new URL(req.url);
  const blob = /^\/images\/([^/]+)\/versions\/([^/]+)\/blob$/.exec(url.pathname);
  if (blob) {
    const handler = req.method === "HEAD" ? blobRoute.HEAD : blobRoute.GET;
    return handler(req, { params: Promise.resolve({ id: blob[1]!, version: blob[2]! }) } as never);
  }
  if (url.pathname.startsWith("/boot/")) return bootRoutes(req);
  const answer = handleUploadRequest(req, uploads);
  inFlight.add(answer);
  void answer.finally(() => inFlight.delete(answer)).catch(() => {});
  return answer;
}

/** Upload requests still being handled (a cut PATCH finishes storing what it has after its client is gone). */
const inFlight = new Set<Promise<Response>>();

async function bucketKeys(): Promise<string[]> {
  const listed = await s3.client.listObjectsV2({ Bucket: s3.bucket });
  return (listed.Contents ?? []).map((o) => o.Key!).sort();
}

async function pendingMultipartUploads(): Promise<string[]> {
  const listed = await s3.client.listMultipartUploads({ Bucket: s3.bucket });
  return (listed.Uploads ?? []).map((u) => u.Key!);
}

const settled = (imageId: string, version: number) => settledVersion(t.db, { imageId, version }, 30_000);

async function get(imageId: string, version: number, method = "GET", headers: Record<string, string> = {}) {
  const res = await fetch(`${server.url}/images/${imageId}/versions/${version}/blob`, { method, headers: { authorization: `Bearer ${owner.token}`, ...headers } });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

beforeAll(async () => {
  worker = await startWorker(t.url);
  server = await startRouteServer(route);
  const { user } = await createActiveUser(t.db);
  owner = { user, token: (await createApiToken(t.db, user.id, { name: "s3" })).token };
});

afterAll(async () => {
  await server?.close();
  await worker?.stop();
  await stopJobSender();
  await s3.stop();
  await fsp.rm(dataDir, { recursive: true, force: true });
});

describe("images on S3 (Swift s3api)", () => {
  let image: { id: string };
  let data: Buffer;
  let version: number;

  it("resumes uploads cut at random points, also from a fresh process's storage; the verified object in the bucket is the source", async () => {
    expect(getImageStorage().kind).toBe("s3");
    image = await createImage(t.db, actorOf(owner.user, null), { name: "on-s3" });
    // Three of @tus/s3-store's 8 MiB parts and a partial one: cuts fall inside parts and across them.
    data = randomBytes(3 * 8 * MiB + randomInt(1, 5 * MiB));
    const created = await tusCreate(`${server.url}/api/uploads`, owner.token, data.length, { imageId: image.id, filename: "disk.img", sha256: sha(data) });
    expect(created.status, created.body).toBe(201);
    version = Number(created.headers["kiln-image-version"]);
    const url = created.location!;
    expect(await pendingMultipartUploads()).toContain(url.split("/").pop());

    let restarts = 0;
    let sent = 0;
    let stored = 0;
    for (let cut = 0; cut < 4; cut++) {
      const head = await tusHead(url, owner.token);
      expect(head.status, head.body).toBe(200);
      // Never more than was sent, never behind what was stored before. A cut PATCH keeps the
      // parts it completed; the bytes of the part it was in are sent again.
      expect(head.offset).toBeLessThanOrEqual(sent);
      expect(head.offset).toBeGreaterThanOrEqual(stored);
      expect(head.offset % (8 * MiB)).toBe(0);
      expect(head.length).toBe(data.length);
      stored = head.offset;
      // The first cut is past a part boundary, so a restarted server must find that part.
      const cutAfter = cut === 0 ? randomInt(8 * MiB + 1, 12 * MiB) : randomInt(1, 10 * MiB);
      await tusPatchCut(url, owner.token, head.offset, data.subarray(head.offset), cutAfter);
      sent = head.offset + cutAfter;
      if (cut % 2 === 1) {
        // A restarted web process: a new S3 client and tus server, no cached metadata or locks.
        // The old one is let finish first, as a process that exited would have: the tus lock
        // is per process, so two live ones writing the same upload is exactly what the
        // deployment notes in docs/images.md rule out.
        await server.kill();
        await Promise.allSettled([...inFlight]);
        uploads = createUploadServer(createImageStorage());
        await server.restart(route);
        restarts++;
      }
      const v = await getImageVersionRow(t.db, { imageId: image.id, version });
      expect(v?.state).toBe("uploading");
    }
    const last = await tusHead(url, owner.token);
    // Status first: an error answer carries no Upload-Offset, which would read as offset 0.
    expect(last.status, last.body).toBe(200);
    expect(last.offset).toBeGreaterThanOrEqual(8 * MiB);
    const done = await tusResume(url, owner.token, data);
    expect(done.status, done.body).toBe(204);
    expect(restarts).toBe(2);

    const v = await settled(image.id, version);
    expect({ state: v.state, reason: v.failureReason, sha256: v.sha256, size: v.sizeBytes }).toEqual({ state: "ready", reason: null, sha256: sha(data), size: data.length });
    // The finished multipart upload is the blob: an object of the source's size, no upload left open.
    expect((await s3.client.headObject({ Bucket: s3.bucket, Key: v.storageKey! })).ContentLength).toBe(data.length);
    expect(await pendingMultipartUploads()).toEqual([]);
  }, 120_000);

  it("serves the object: whole, HEAD, byte-exact ranges across part boundaries, If-Range, 416", async () => {
    const whole = await get(image.id, version);
    expect(whole.status).toBe(200);
    expect(whole.headers.get("content-length")).toBe(String(data.length));
    expect(whole.headers.get("etag")).toBe(`"${sha(data)}"`);
    expect(sha(whole.body)).toBe(sha(data));

    const head = await get(image.id, version, "HEAD");
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(String(data.length));
    expect(head.body.length).toBe(0);

    const boundaries = [8 * MiB, 16 * MiB, 24 * MiB];
    const ranges: [number, number][] = boundaries.map((b) => [b - randomInt(1, 1000), b + randomInt(0, 1000)]);
    for (let i = 0; i < 10; i++) {
      const a = randomInt(0, data.length);
      ranges.push([a, Math.min(data.length - 1, a + randomInt(0, 3 * MiB))]);
    }
    for (const [a, b] of ranges) {
      const got = await get(image.id, version, "GET", { range: `bytes=${a}-${b}` });
      expect({ range: [a, b], status: got.status }).toEqual({ range: [a, b], status: 206 });
      expect(got.headers.get("content-range")).toBe(`bytes ${a}-${b}/${data.length}`);
      expect(got.body.equals(data.subarray(a, b + 1)), `bytes=${a}-${b}`).toBe(true);
    }
    const suffix = await get(image.id, version, "GET", { range: "bytes=-1000" });
    expect(suffix.body.equals(data.subarray(data.length - 1000))).toBe(true);
    const stale = await get(image.id, version, "GET", { range: "bytes=0-9", "if-range": '"not-this"' });
    expect(stale.status).toBe(200);
    expect(stale.body.length).toBe(data.length);
    const past = await get(image.id, version, "GET", { range: `bytes=${data.length}-` });
    expect(past.status).toBe(416);
    expect(past.headers.get("content-range")).toBe(`bytes */${data.length}`);
  });

  it("converts a qcow2 upload and stores the raw result in the bucket", async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), "kiln-s3-qcow2-"));
    try {
      const raw = randomBytes(6 * MiB);
      await fsp.writeFile(path.join(dir, "disk.raw"), raw);
      execFileSync("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", path.join(dir, "disk.raw"), path.join(dir, "disk.qcow2")]);
      const qcow2 = await fsp.readFile(path.join(dir, "disk.qcow2"));
      const created = await tusCreate(`${server.url}/api/uploads`, owner.token, qcow2.length, { imageId: image.id, filename: "disk.qcow2" });
      expect(created.status, created.body).toBe(201);
      expect((await tusPatch(created.location!, owner.token, 0, qcow2)).status).toBe(204);
      const n = Number(created.headers["kiln-image-version"]);
      const v = await settled(image.id, n);
      expect({ state: v.state, reason: v.failureReason, sourceFormat: v.sourceFormat, sha256: v.sha256 }).toEqual({ state: "ready", reason: null, sourceFormat: "qcow2", sha256: sha(raw) });
      expect(sha((await get(image.id, n)).body)).toBe(sha(raw));
      // The qcow2 upload itself is gone; only the converted blob (and its bookkeeping) remain.
      const uploadId = created.location!.split("/").pop()!;
      expect((await bucketKeys()).filter((k) => k.startsWith(uploadId))).toEqual([]);
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it("takes a disk capture of deferred length (chunks smaller than a part, one cut mid-chunk) and verifies it", async () => {
    const plugin = await recordingPowerPlugin();
    try {
      setTestEnvDefaults({ KILN_BOOT_URL: server.url });
      const admin = actorOf((await createActiveUser(t.db, { admin: true })).user, null);
      const projectId = (await createProject(t.db, admin, { name: `s3-capture-${randomInt(1e6)}` })).id;
      await addProjectMember(t.db, admin, projectId, { userId: owner.user.id });
      await syncBuiltinTemplates(t.db);
      const mac = "52:54:00:53:00:01";
      const host = await createHost(t.db, admin, { name: "s3-capture", interfaces: [{ mac }], power: { driver: "plugin", params: { command: plugin.command } } });
      await createLease(t.db, admin, { hostIds: [host.id], userId: owner.user.id, projectId });
      const run = await startDeployment(t.db, actorOf(owner.user, null), host.id, { action: "capture_disk", imageId: image.id });
      const machine = new FakeMachine(server, mac);
      await machine.boot();
      await machine.instructions();
      const authorization = `Kiln-Run ${mac} ${machine.token}`;

      // Three 20 MiB chunks and a 7 MiB last one: none fills a 64 MiB part, so each PATCH
      // leaves an incomplete part in the bucket for the next to take up.
      const disk = randomBytes(67 * MiB);
      const created = await machine.tus("POST", "/api/uploads", { "Upload-Defer-Length": "1" });
      expect(created.status).toBe(201);
      const url = new URL(created.headers.get("location")!, server.url).toString();
      expect((await tusPatch(url, authorization, 0, disk.subarray(0, 20 * MiB))).status).toBe(204);
      // A fresh storage (a restarted web process) takes the second chunk, cut after 7 MiB.
      uploads = createUploadServer(createImageStorage());
      await tusPatchCut(url, authorization, 20 * MiB, disk.subarray(20 * MiB, 40 * MiB), 7 * MiB);
      await Promise.allSettled([...inFlight]);
      const head = await tusHead(url, authorization);
      expect(head.status).toBe(200);
      expect(head.headers["upload-defer-length"]).toBe("1");
      // S3 keeps only whole parts of a cut PATCH (none here: 7 MiB < 64 MiB), never more than arrived.
      expect(head.offset).toBeGreaterThanOrEqual(20 * MiB);
      expect(head.offset).toBeLessThanOrEqual(27 * MiB);
      expect((await tusPatch(url, authorization, head.offset, disk.subarray(head.offset, 60 * MiB))).status).toBe(204);
      const last = await machine.tus("PATCH", url, { "Content-Type": "application/offset+octet-stream", "Upload-Offset": String(60 * MiB), "Upload-Length": String(disk.length) }, disk.subarray(60 * MiB));
      expect(last.status).toBe(204);

      const answer = await (async () => {
        for (let i = 0; i < 300; i++) {
          const r = await machine.done({ sha256: sha(disk), bytes: disk.length });
          if (r.status !== 202) return r;
          await new Promise((res) => setTimeout(res, 100));
        }
        throw new Error("still verifying after 30 s");
      })();
      expect(answer.status, answer.text).toBe(200);
      const v = answer.json().version as number;
      expect(await getDeployment(t.db, actorOf(owner.user, null), run.id)).toMatchObject({ state: "done", image: { version: v } });
      expect(await getImageVersionRow(t.db, { imageId: image.id, version: v })).toMatchObject({ state: "ready", sha256: sha(disk), sizeBytes: disk.length });
      expect(sha((await get(image.id, v)).body)).toBe(sha(disk));
      expect(await pendingMultipartUploads()).not.toContain(url.split("/").pop());
    } finally {
      setTestEnvDefaults({ KILN_BOOT_URL: undefined });
      await plugin.cleanup();
    }
  }, 120_000);

  it("leaves nothing in the bucket for a cancelled upload or a deleted version", async () => {
    const before = await bucketKeys();
    const created = await tusCreate(`${server.url}/api/uploads`, owner.token, 20 * MiB, { imageId: image.id, filename: "cancel.img" });
    expect(created.status, created.body).toBe(201);
    const id = created.location!.split("/").pop()!;
    await tusPatchCut(created.location!, owner.token, 0, randomBytes(20 * MiB), 11 * MiB);
    expect((await tusHead(created.location!, owner.token)).offset).toBeGreaterThan(0);
    expect((await tusDelete(created.location!, owner.token)).status).toBe(204);
    expect(await pendingMultipartUploads()).not.toContain(id);
    expect(await bucketKeys()).toEqual(before);

    const v = (await getImageVersionRow(t.db, { imageId: image.id, version }))!;
    await deleteImageVersion(t.db, actorOf(owner.user, null), image.id, version);
    expect((await bucketKeys()).filter((k) => k.startsWith(v.storageKey!))).toEqual([]);
    expect((await get(image.id, version)).status).toBe(404);
  });
});
