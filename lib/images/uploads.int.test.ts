// Uploads end to end through the real tus route handler, mounted on a real HTTP server in
// this process, with the real worker verifying what arrives: resumes after dropped
// connections and server restarts, concurrency, quotas, checksums and every bad input.
import "@/test/harness/route-handler";
import { createHash, randomBytes, randomInt } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as uploadRoute from "@/app/api/uploads/[[...path]]/route";
import { completeImageUpload, getImageVersionRow, getImageUploadRow, listImageVersionRows, updateImageVersionFrom } from "@/db/queries/images";
import { updateProjectRow } from "@/db/queries/projects";
import type { UserRow } from "@/db/schema";
import { actorOf } from "@/lib/access/actor";
import { createApiToken } from "@/lib/auth/api-tokens";
import { stopJobSender } from "@/lib/jobs/enqueue";
import { createProject, addProjectMember } from "@/lib/projects/projects";
import { useTestDb } from "@/test/harness/database";
import { setTestEnvDefaults } from "@/test/harness/env";
import { createActiveUser } from "@/test/harness/fixtures";
import { startRouteServer, type RouteServer } from "@/test/harness/http-server";
import { settledVersion } from "@/test/harness/images";
import { tusCreate, tusDelete, tusHead, tusPatch, tusPatchCut, tusResume } from "@/test/harness/tus";
import { startWorker } from "@/workers/worker";
import { createImage, getImageVersion } from "./images";
import { expireImageUploads } from "./housekeeping";
import { createUploadServer, handleUploadRequest } from "@/lib/uploads/tus-server";
import { getImageStorage, imagesRoot } from "./storage";

const t = await useTestDb();
const dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), "kiln-images-test-"));
setTestEnvDefaults({ KILN_DATA_DIR: dataDir });

type Person = { user: UserRow; token: string };
let server: RouteServer;
let worker: { stop: () => Promise<void> };
let alice: Person;
let bob: Person;
let admin: Person;

async function person(isAdmin = false): Promise<Person> {
  const { user } = await createActiveUser(t.db, { admin: isAdmin });
  return { user, token: (await createApiToken(t.db, user.id, { name: "uploads" })).token };
}

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const endpoint = () => `${server.url}/api/uploads`;

async function imageOf(p: Person, name = `img-${randomBytes(3).toString("hex")}`) {
  return createImage(t.db, actorOf(p.user, null), { name });
}

const settled = (imageId: string, version: number) => settledVersion(t.db, { imageId, version });

async function storedBytes(imageId: string, version: number): Promise<Buffer> {
  const v = (await getImageVersionRow(t.db, { imageId, version }))!;
  return fsp.readFile(getImageStorage().localBlobPath(v.storageKey!)!);
}

beforeAll(async () => {
  worker = await startWorker(t.url);
  server = await startRouteServer((req) => handleUploadRequest(req));
  [alice, bob, admin] = await Promise.all([person(), person(), person(true)]);
});

afterAll(async () => {
  await server?.close();
  await worker?.stop();
  await stopJobSender();
  await fsp.rm(dataDir, { recursive: true, force: true });
});

describe("uploads", () => {
  it("a whole upload in one PATCH becomes a ready version with the source's sha256 and format", async () => {
    const image = await imageOf(alice);
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const created = await tusCreate(endpoint(), alice.token, data.length, { imageId: image.id, filename: "disk.img", notes: "first" });
    expect(created.status, created.body).toBe(201);
    expect(created.headers["kiln-image-version"]).toBe("1");
    expect(created.location).toMatch(/\/api\/uploads\/[0-9a-f]{32}$/);
    const patched = await tusPatch(created.location!, alice.token, 0, data);
    expect(patched.status, patched.body).toBe(204);
    expect(patched.headers["upload-offset"]).toBe(String(data.length));
    const v = await settled(image.id, 1);
    expect(v).toMatchObject({ state: "ready", sha256: sha(data), sizeBytes: data.length, format: "unknown", notes: "first", filename: "disk.img" });
    expect((await storedBytes(image.id, 1)).equals(data)).toBe(true);
    // The upload's bookkeeping is gone, and so is its file in the upload directory.
    expect(await getImageUploadRow(t.db, created.location!.split("/").pop()!)).toBeUndefined();
    expect(fs.existsSync(path.join(imagesRoot(), "uploads", created.location!.split("/").pop()!))).toBe(false);
  });

  it("survives 20 uploads broken at random points (dropped connections, server restarts): the stored bytes always equal the source's, and nothing partial is ever ready", async () => {
    const image = await imageOf(alice);
    let restarts = 0;
    let cuts = 0;
    const finished: { try: number; version: number; sha256: string }[] = [];
    for (let i = 0; i < 20; i++) {
      const data = randomBytes(randomInt(1 * 1024 * 1024, 6 * 1024 * 1024));
      const created = await tusCreate(endpoint(), alice.token, data.length, { imageId: image.id, filename: `try-${i}.img`, sha256: sha(data) });
      expect(created.status, created.body).toBe(201);
      const version = Number(created.headers["kiln-image-version"]);
      const url = () => created.location!.replace(/^http:\/\/127\.0\.0\.1:\d+/, server.url);
      const breaks = randomInt(1, 4);
      for (let b = 0; b < breaks; b++) {
        const head = await tusHead(url(), alice.token);
        expect(head.status).toBe(200);
        const rest = data.length - head.offset;
        if (rest < 2) break;
        await tusPatchCut(url(), alice.token, head.offset, data.subarray(head.offset), randomInt(1, rest));
        cuts++;
        // Every third break is a restart: the listening server goes away with every connection,
        // and a fresh tus server (new locks, nothing in memory) takes over the same port and store.
        if ((i + b) % 3 === 0) {
          await server.kill();
          const fresh = createUploadServer();
          await server.restart((req) => handleUploadRequest(req, fresh));
          restarts++;
        }
        const v = await getImageVersionRow(t.db, { imageId: image.id, version });
        expect(v?.state, `try ${i} break ${b}`).toBe("uploading");
        expect(v?.sha256).toBeNull();
      }
      const done = await tusResume(url(), alice.token, data);
      expect(done.status, done.body).toBe(204);
      finished.push({ try: i, version, sha256: sha(data) });
    }
    // The worker verifies them meanwhile; every one must end ready with exactly the source's bytes.
    for (const f of finished) {
      const v = await settled(image.id, f.version);
      expect({ try: f.try, state: v.state, reason: v.failureReason, sha256: v.sha256 }).toEqual({ try: f.try, state: "ready", reason: null, sha256: f.sha256 });
      expect(sha(await storedBytes(image.id, f.version))).toBe(f.sha256);
    }
    expect(cuts).toBeGreaterThanOrEqual(20);
    expect(restarts).toBeGreaterThanOrEqual(5);
    server.setHandler((req) => handleUploadRequest(req));
  }, 240_000);

  it("takes concurrent uploads from several users, each ending as its own bytes", async () => {
    const people = [alice, bob, await person(), await person()];
    const jobs = await Promise.all(
      people.flatMap((p) => [0, 1].map(async (k) => {
        const image = await imageOf(p);
        const data = randomBytes(2 * 1024 * 1024 + k * 4099);
        const created = await tusCreate(endpoint(), p.token, data.length, { imageId: image.id, filename: "c.img" });
        expect(created.status, created.body).toBe(201);
        // Two halves, so the PATCHes of different uploads interleave.
        const half = Math.floor(data.length / 2);
        expect((await tusPatch(created.location!, p.token, 0, data.subarray(0, half))).status).toBe(204);
        expect((await tusPatch(created.location!, p.token, half, data.subarray(half))).status).toBe(204);
        return { image, data };
      })),
    );
    for (const { image, data } of jobs) {
      const v = await settled(image.id, 1);
      expect(v.state).toBe("ready");
      expect((await storedBytes(image.id, 1)).equals(data)).toBe(true);
    }
  }, 60_000);

  it("refuses an Upload-Length over the user's quota with 413 and the numbers, before any byte is stored", async () => {
    setTestEnvDefaults({ KILN_STORAGE_QUOTA_PER_USER_GB: "0.005" });
    try {
      const carol = await person();
      const image = await imageOf(carol);
      const filesBefore = await fsp.readdir(path.join(imagesRoot(), "uploads"));
      const over = await tusCreate(endpoint(), carol.token, 6_000_000, { imageId: image.id, filename: "big.img" });
      expect(over.status).toBe(413);
      expect(JSON.parse(over.body).error.message).toMatch(/would exceed your storage quota: you use 0\.000 GB of 0\.005 GB \(0 of 5000000 bytes\)/);
      expect(await fsp.readdir(path.join(imagesRoot(), "uploads"))).toEqual(filesBefore);
      expect(await listImageVersionRows(t.db, image.id)).toEqual([]);
      // An upload in flight counts: 3 MB started, another 3 MB no longer fits.
      const first = await tusCreate(endpoint(), carol.token, 3_000_000, { imageId: image.id, filename: "a.img" });
      expect(first.status).toBe(201);
      const second = await tusCreate(endpoint(), carol.token, 3_000_000, { imageId: image.id, filename: "b.img" });
      expect(second.status).toBe(413);
      expect(JSON.parse(second.body).error.details).toMatchObject({ quota: "user", usedBytes: 3_000_000, limitBytes: 5_000_000, requestedBytes: 3_000_000 });
      // Concurrent creations cannot both squeeze into the same free space.
      const dave = await person();
      const daveImage = await imageOf(dave);
      const racing = await Promise.all([0, 1, 2, 3].map(() => tusCreate(endpoint(), dave.token, 2_000_000, { imageId: daveImage.id, filename: "r.img" })));
      expect(racing.map((r) => r.status).sort()).toEqual([201, 201, 413, 413]);
    } finally {
      setTestEnvDefaults({ KILN_STORAGE_QUOTA_PER_USER_GB: undefined });
    }
  });

  it("refuses an upload over the project's quota", async () => {
    const project = await createProject(t.db, actorOf(admin.user, null), { name: `storage-${randomBytes(3).toString("hex")}`, maxStorageGb: 0 });
    await addProjectMember(t.db, actorOf(admin.user, null), project.id, { userId: alice.user.id });
    const image = await createImage(t.db, actorOf(alice.user, null), { name: "shared", visibility: "project", projectId: project.id });
    const res = await tusCreate(endpoint(), alice.token, 1000, { imageId: image.id, filename: "x.img" });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).error.message).toContain(`storage quota of project ${project.name}`);
    await updateProjectRow(t.db, project.id, { maxStorageGb: 1 });
    expect((await tusCreate(endpoint(), alice.token, 1000, { imageId: image.id, filename: "x.img" })).status).toBe(201);
  });

  it("fails a version whose bytes do not match the client's sha256, with that reason, and keeps no bytes", async () => {
    const image = await imageOf(alice);
    const data = randomBytes(100_000);
    const claimed = sha(Buffer.from("something else"));
    const created = await tusCreate(endpoint(), alice.token, data.length, { imageId: image.id, filename: "x.img", sha256: claimed.toUpperCase() });
    expect((await tusPatch(created.location!, alice.token, 0, data)).status).toBe(204);
    const v = await settled(image.id, 1);
    expect(v.state).toBe("failed");
    expect(v.failureReason).toBe(`checksum mismatch: expected ${claimed}, got ${sha(data)}`);
    expect(v.storageKey).toBeNull();
    expect(fs.existsSync(path.join(imagesRoot(), "uploads", created.location!.split("/").pop()!))).toBe(false);
    expect((await getImageVersion(t.db, actorOf(alice.user, null), image.id, 1)).blobUrl).toBeNull();
  });

  it("answers bad input: 401 without credentials, 400 for path-like or malformed metadata, 404 for images and uploads that are not the caller's", async () => {
    const mine = await imageOf(alice);
    const bobs = await imageOf(bob);
    const create = (token: string | null, meta: Record<string, string>, extra: Record<string, string> = {}) => tusCreate(endpoint(), token, 1000, meta, extra);
    expect((await create(null, { imageId: mine.id, filename: "a.img" })).status).toBe(401);
    expect((await create("kiln_pat_not-a-real-token", { imageId: mine.id, filename: "a.img" })).status).toBe(401);
    for (const filename of ["../etc/passwd", "../../x", "/etc/passwd", "\\server\\share", "C:\\boot.img", "dir/../x.img", "a/b.img", "~/x.img"]) {
      const res = await create(alice.token, { imageId: mine.id, filename });
      expect({ filename, status: res.status }).toEqual({ filename, status: 400 });
      expect(JSON.parse(res.body).error.details.fieldErrors.filename).toBeDefined();
    }
    expect((await create(alice.token, { imageId: "not-a-uuid", filename: "a.img" })).status).toBe(400);
    expect((await create(alice.token, { filename: "a.img" })).status).toBe(400);
    expect((await create(alice.token, { imageId: mine.id, filename: "a.img", path: "/tmp/x" })).status).toBe(400);
    expect((await create(alice.token, { imageId: mine.id, filename: "a.img", sha256: "abc" })).status).toBe(400);
    expect((await create(alice.token, { imageId: "00000000-0000-4000-8000-000000000000", filename: "a.img" })).status).toBe(404);
    expect((await create(alice.token, { imageId: bobs.id, filename: "a.img" })).status).toBe(404);
    const empty = await tusCreate(endpoint(), alice.token, 0, { imageId: mine.id, filename: "a.img" });
    expect(empty.status).toBe(400);
    // A length declared later could not be checked against the quota up front.
    const deferred = await fetch(endpoint(), {
      method: "POST",
      headers: { authorization: `Bearer ${alice.token}`, "tus-resumable": "1.0.0", "upload-defer-length": "1", "upload-metadata": `imageId ${Buffer.from(mine.id).toString("base64")},filename ${Buffer.from("a.img").toString("base64")}` },
    });
    expect(deferred.status).toBe(400);
    expect(((await deferred.json()) as { error: { message: string } }).error.message).toMatch(/Send Upload-Length/);
    // Nothing above created a version.
    expect(await listImageVersionRows(t.db, mine.id)).toEqual([]);

    // Someone else's upload cannot be probed, resumed or cancelled.
    const created = await create(alice.token, { imageId: mine.id, filename: "a.img" });
    expect(created.status).toBe(201);
    expect((await tusHead(created.location!, bob.token)).status).toBe(404);
    expect((await tusPatch(created.location!, bob.token, 0, randomBytes(1000))).status).toBe(404);
    expect((await tusDelete(created.location!, bob.token)).status).toBe(404);
    expect((await tusHead(created.location!, null)).status).toBe(401);
    expect((await tusHead(created.location!, alice.token)).offset).toBe(0);
    // An admin may look.
    expect((await tusHead(created.location!, admin.token)).status).toBe(200);
  });

  it("never makes a truncated upload ready: it stays uploading, fails verification if forced, and expires with its bytes", async () => {
    const image = await imageOf(alice);
    const data = randomBytes(2 * 1024 * 1024);
    const created = await tusCreate(endpoint(), alice.token, data.length, { imageId: image.id, filename: "t.img" });
    const id = created.location!.split("/").pop()!;
    await tusPatchCut(created.location!, alice.token, 0, data, 700_000);
    const head = await tusHead(created.location!, alice.token);
    expect(head.offset).toBeGreaterThan(0);
    expect(head.offset).toBeLessThan(data.length);
    expect((await getImageVersionRow(t.db, { imageId: image.id, version: 1 }))!.state).toBe("uploading");

    // Even if the bookkeeping claimed it complete, verification checks the bytes that are there.
    expect(await updateImageVersionFrom(t.db, { imageId: image.id, version: 1, from: "uploading" }, { state: "verifying" })).toBeDefined();
    expect(await completeImageUpload(t.db, id, new Date())).toBe(true);
    const { verifyImageVersion } = await import("./verify");
    expect(await verifyImageVersion(t.db, { imageId: image.id, version: 1 })).toEqual({ state: "failed", reason: `the upload is incomplete: ${head.offset} of ${data.length} bytes arrived` });
    expect(fs.existsSync(path.join(imagesRoot(), "uploads", id))).toBe(false);

    // An abandoned upload: after the expiry, its version and bytes are gone.
    const other = await tusCreate(endpoint(), alice.token, data.length, { imageId: image.id, filename: "t2.img" });
    const otherId = other.location!.split("/").pop()!;
    await tusPatchCut(other.location!, alice.token, 0, data, 500_000);
    expect(await expireImageUploads(t.db, new Date())).toBe(0);
    expect(fs.existsSync(path.join(imagesRoot(), "uploads", otherId))).toBe(true);
    // (Other tests of this file left unfinished uploads too; they expire alike.)
    expect(await expireImageUploads(t.db, new Date(Date.now() + 25 * 3600_000))).toBeGreaterThanOrEqual(1);
    expect(fs.existsSync(path.join(imagesRoot(), "uploads", otherId))).toBe(false);
    expect(fs.existsSync(path.join(imagesRoot(), "uploads", `${otherId}.json`))).toBe(false);
    expect(await getImageVersionRow(t.db, { imageId: image.id, version: 2 })).toBeUndefined();
    expect((await tusHead(other.location!, alice.token)).status).toBe(404);
  });

  it("cancels an upload with DELETE: the version and its bytes are gone", async () => {
    const image = await imageOf(alice);
    const created = await tusCreate(endpoint(), alice.token, 500_000, { imageId: image.id, filename: "c.img" });
    const id = created.location!.split("/").pop()!;
    expect((await tusPatch(created.location!, alice.token, 0, randomBytes(100_000))).status).toBe(204);
    expect((await tusDelete(created.location!, alice.token)).status).toBe(204);
    expect(await getImageVersionRow(t.db, { imageId: image.id, version: 1 })).toBeUndefined();
    expect(fs.existsSync(path.join(imagesRoot(), "uploads", id))).toBe(false);
  });

  it("converts a qcow2 upload to raw on the server, recording the original format, and refuses qcow2 files that name other files", async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), "kiln-qcow2-"));
    try {
      // A small disk with an MBR partition table and some data, made into qcow2 by qemu-img.
      const raw = Buffer.alloc(4 * 1024 * 1024);
      raw.writeUInt8(0x80, 446);
      raw.writeUInt8(0x83, 450);
      raw.writeUInt32LE(2048, 454);
      raw.writeUInt32LE(4096, 458);
      raw[510] = 0x55;
      raw[511] = 0xaa;
      randomBytes(300_000).copy(raw, 1024 * 1024);
      await fsp.writeFile(path.join(dir, "disk.raw"), raw);
      const { execFileSync } = await import("node:child_process");
      execFileSync("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", path.join(dir, "disk.raw"), path.join(dir, "disk.qcow2")]);
      // And one made with `qemu-img create` and data written into it with qemu-io.
      execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", path.join(dir, "blank.qcow2"), "2M"]);
      execFileSync("qemu-io", ["-f", "qcow2", "-c", "write -P 0x5a 65536 65536", path.join(dir, "blank.qcow2")]);
      const blankRaw = Buffer.alloc(2 * 1024 * 1024);
      blankRaw.fill(0x5a, 65536, 131072);
      // And one with a backing file: converting it would copy a server file into the image.
      execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", "-b", "/etc/hostname", "-F", "raw", path.join(dir, "backed.qcow2"), "1M"]);

      const image = await imageOf(alice);
      const upload = async (file: string) => {
        const bytes = await fsp.readFile(path.join(dir, file));
        const created = await tusCreate(endpoint(), alice.token, bytes.length, { imageId: image.id, filename: file, sha256: sha(bytes) });
        expect((await tusPatch(created.location!, alice.token, 0, bytes)).status).toBe(204);
        return { version: Number(created.headers["kiln-image-version"]), bytes };
      };
      const disk = await upload("disk.qcow2");
      const v1 = await settled(image.id, disk.version);
      expect(v1).toMatchObject({ state: "ready", format: "raw-mbr", sourceFormat: "qcow2", sha256: sha(raw), sourceSha256: sha(disk.bytes), sizeBytes: raw.length, sourceSizeBytes: disk.bytes.length });
      expect((await storedBytes(image.id, disk.version)).equals(raw)).toBe(true);

      const blank = await upload("blank.qcow2");
      const v2 = await settled(image.id, blank.version);
      expect(v2).toMatchObject({ state: "ready", format: "unknown", sourceFormat: "qcow2", sha256: sha(blankRaw), sizeBytes: blankRaw.length });

      const backed = await upload("backed.qcow2");
      const v3 = await settled(image.id, backed.version);
      expect(v3.state).toBe("failed");
      expect(v3.failureReason).toMatch(/backing file/);
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
