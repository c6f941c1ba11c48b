// Blob delivery through the real route handler: byte-exact ranges at arbitrary offsets,
// If-Range, HEAD, 416, and who may read (owner, project, deployment token, nobody else).
import "@/test/harness/route-handler";
import { createHash, randomBytes, randomInt } from "node:crypto";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as blobRoute from "@/app/images/[id]/versions/[version]/blob/route";
import * as versionRoute from "@/app/api/v1/images/[id]/versions/[version]/route";
import * as imageRoute from "@/app/api/v1/images/[id]/route";
import { insertDeployment, updateDeploymentRow } from "@/db/queries/boot";
import { insertImageVersion, nextImageVersion, refreshLatestVersion } from "@/db/queries/images";
import type { UserRow } from "@/db/schema";
import { actorOf } from "@/lib/access/actor";
import { createApiToken } from "@/lib/auth/api-tokens";
import { generateSecret, hashSecret } from "@/lib/auth/secrets";
import { createHost } from "@/lib/hosts/hosts";
import { addProjectMember, createProject } from "@/lib/projects/projects";
import { useTestDb } from "@/test/harness/database";
import { setTestEnv, setTestEnvDefaults } from "@/test/harness/env";
import { createActiveUser } from "@/test/harness/fixtures";
import { buildRequest, callRoute, inRequestScope } from "@/test/harness/route-handler";
import { createImage, deleteImageVersion } from "./images";
import { imagesRoot } from "./storage";

const t = await useTestDb();
const dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), "kiln-blob-test-"));
setTestEnvDefaults({ KILN_DATA_DIR: dataDir });

type Person = { user: UserRow; token: string };
let owner: Person;
let member: Person;
let outsider: Person;
let admin: Person;
let projectId: string;

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

async function person(isAdmin = false): Promise<Person> {
  const { user } = await createActiveUser(t.db, { admin: isAdmin });
  return { user, token: (await createApiToken(t.db, user.id, { name: "blob" })).token };
}

/** A ready version with these bytes, stored where the verifier would have put them. */
async function readyVersion(imageId: string, bytes: Buffer) {
  const version = await nextImageVersion(t.db, imageId);
  const key = `blobs/${imageId}/${version}`;
  await fsp.mkdir(path.join(imagesRoot(), "blobs", imageId), { recursive: true });
  await fsp.writeFile(path.join(imagesRoot(), key), bytes);
  await insertImageVersion(t.db, { imageId, version, state: "ready", sizeBytes: bytes.length, sha256: sha(bytes), format: "unknown", sourceFormat: "unknown", storageKey: key, uploadedByUserId: owner.user.id, readyAt: new Date() });
  await refreshLatestVersion(t.db, imageId);
  return version;
}

type Got = { status: number; headers: Headers; body: Buffer };

async function fetchBlob(p: { imageId: string; version: string | number; token?: string; query?: string; method?: string; headers?: Record<string, string> }): Promise<Got> {
  const req = buildRequest(p.method ?? "GET", `/images/${p.imageId}/versions/${p.version}/blob${p.query ?? ""}`, { token: p.token, headers: p.headers });
  const handler = p.method === "HEAD" ? blobRoute.HEAD : blobRoute.GET;
  const res = await inRequestScope(req, () => handler(req, { params: Promise.resolve({ id: p.imageId, version: String(p.version) }) } as never));
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

let image: { id: string };
let data: Buffer;
let v1: number;

beforeAll(async () => {
  [owner, member, outsider, admin] = await Promise.all([person(), person(), person(), person(true)]);
  const project = await createProject(t.db, actorOf(admin.user, null), { name: `blobs-${randomBytes(3).toString("hex")}` });
  projectId = project.id;
  await addProjectMember(t.db, actorOf(admin.user, null), projectId, { userId: member.user.id });
  image = await createImage(t.db, actorOf(owner.user, null), { name: "ubuntu 24.04" });
  data = randomBytes(3 * 1024 * 1024 + 123);
  v1 = await readyVersion(image.id, data);
});

afterAll(async () => {
  await fsp.rm(dataDir, { recursive: true, force: true });
});

describe("blob delivery", () => {
  it("serves the whole file with its length, ETag (the sha256) and Accept-Ranges; HEAD the same headers without a body", async () => {
    const got = await fetchBlob({ imageId: image.id, version: v1, token: owner.token });
    expect(got.status).toBe(200);
    expect(got.body.equals(data)).toBe(true);
    expect(Object.fromEntries(got.headers)).toMatchObject({
      "content-length": String(data.length),
      "accept-ranges": "bytes",
      etag: `"${sha(data)}"`,
      "content-type": "application/octet-stream",
      "content-disposition": `attachment; filename="ubuntu_24.04-v${v1}.img"`,
      "cache-control": "private, max-age=31536000, immutable",
    });
    const head = await fetchBlob({ imageId: image.id, version: v1, token: owner.token, method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(head.headers.get("content-length")).toBe(String(data.length));
    expect(head.headers.get("etag")).toBe(`"${sha(data)}"`);
  });

  it("answers ranges byte-exact at random offsets: closed, open-ended and suffix", async () => {
    for (let i = 0; i < 40; i++) {
      const kind = i % 3;
      const a = randomInt(0, data.length);
      const b = randomInt(a, Math.min(data.length, a + 2 * 1024 * 1024));
      const n = randomInt(1, data.length + 10);
      const [range, start, end] =
        kind === 0 ? [`bytes=${a}-${b}`, a, b] : kind === 1 ? [`bytes=${a}-`, a, data.length - 1] : [`bytes=-${n}`, Math.max(0, data.length - n), data.length - 1];
      const got = await fetchBlob({ imageId: image.id, version: v1, token: owner.token, headers: { range } });
      const whole = start === 0 && end === data.length - 1;
      expect({ range, status: got.status }).toEqual({ range, status: whole ? 200 : 206 });
      expect(got.body.equals(data.subarray(start, end + 1)), range).toBe(true);
      expect(got.headers.get("content-length")).toBe(String(end - start + 1));
      if (!whole) expect(got.headers.get("content-range")).toBe(`bytes ${start}-${end}/${data.length}`);
    }
  });

  it("lets a download resume any number of times and still add up to the file", async () => {
    const parts: Buffer[] = [];
    let offset = 0;
    let resumes = 0;
    while (offset < data.length) {
      const got = await fetchBlob({ imageId: image.id, version: v1, token: owner.token, headers: { range: `bytes=${offset}-`, "if-range": `"${sha(data)}"` } });
      expect(got.status).toBe(offset === 0 ? 200 : 206);
      // Keep only a random prefix, as if the connection dropped there.
      const keep = got.body.subarray(0, randomInt(1, 700_000));
      parts.push(keep);
      offset += keep.length;
      resumes++;
    }
    expect(resumes).toBeGreaterThan(3);
    expect(sha(Buffer.concat(parts))).toBe(sha(data));
  });

  it("answers 416 with the size for a range past the end; If-Range with another ETag gets the whole file; If-None-Match gets 304", async () => {
    const past = await fetchBlob({ imageId: image.id, version: v1, token: owner.token, headers: { range: `bytes=${data.length}-` } });
    expect(past.status).toBe(416);
    expect(past.headers.get("content-range")).toBe(`bytes */${data.length}`);
    const stale = await fetchBlob({ imageId: image.id, version: v1, token: owner.token, headers: { range: "bytes=10-19", "if-range": '"0123"' } });
    expect(stale.status).toBe(200);
    expect(stale.body.equals(data)).toBe(true);
    const fresh = await fetchBlob({ imageId: image.id, version: v1, token: owner.token, headers: { range: "bytes=10-19", "if-range": `"${sha(data)}"` } });
    expect(fresh.status).toBe(206);
    expect(fresh.body.equals(data.subarray(10, 20))).toBe(true);
    const cached = await fetchBlob({ imageId: image.id, version: v1, token: owner.token, headers: { "if-none-match": `"${sha(data)}"` } });
    expect(cached.status).toBe(304);
  });

  it("resolves latest to the newest ready version, which is not cached as immutable", async () => {
    const img = await createImage(t.db, actorOf(owner.user, null), { name: "moving" });
    const a = randomBytes(1000);
    const b = randomBytes(2000);
    await readyVersion(img.id, a);
    await readyVersion(img.id, b);
    // A version still uploading is not `latest`.
    await insertImageVersion(t.db, { imageId: img.id, version: await nextImageVersion(t.db, img.id), state: "uploading", sizeBytes: 5 });
    const got = await fetchBlob({ imageId: img.id, version: "latest", token: owner.token });
    expect(got.body.equals(b)).toBe(true);
    expect(got.headers.get("x-kiln-image-version")).toBe("2");
    expect(got.headers.get("cache-control")).toBe("private, no-cache");
    expect((await fetchBlob({ imageId: img.id, version: 3, token: owner.token })).status).toBe(404);
    expect((await fetchBlob({ imageId: img.id, version: "0", token: owner.token })).status).toBe(404);
    expect((await fetchBlob({ imageId: img.id, version: "../1", token: owner.token })).status).toBe(404);
  });

  it("keeps another user's private image hidden: 404 for its metadata and its blob; 401 without credentials", async () => {
    expect((await fetchBlob({ imageId: image.id, version: v1, token: outsider.token })).status).toBe(404);
    expect((await fetchBlob({ imageId: image.id, version: "latest", token: member.token })).status).toBe(404);
    expect((await fetchBlob({ imageId: image.id, version: v1 })).status).toBe(401);
    expect((await fetchBlob({ imageId: image.id, version: v1, token: admin.token })).status).toBe(200);
    expect((await callRoute(imageRoute.GET, "GET", `/api/v1/images/${image.id}`, { token: outsider.token, params: { id: image.id } })).status).toBe(404);
    expect((await callRoute(versionRoute.GET, "GET", `/api/v1/images/${image.id}/versions/1`, { token: outsider.token, params: { id: image.id, version: "1" } })).status).toBe(404);
    // Shared with the project, its members read it.
    const shared = await createImage(t.db, actorOf(owner.user, null), { name: "shared" });
    const { updateImage } = await import("./images");
    await addProjectMember(t.db, actorOf(admin.user, null), projectId, { userId: owner.user.id });
    await updateImage(t.db, actorOf(owner.user, null), shared.id, { visibility: "project", projectId });
    const bytes = randomBytes(4096);
    await readyVersion(shared.id, bytes);
    expect((await fetchBlob({ imageId: shared.id, version: "latest", token: member.token })).body.equals(bytes)).toBe(true);
    expect((await fetchBlob({ imageId: shared.id, version: "latest", token: outsider.token })).status).toBe(404);
  });

  it("opens a version to its deployment's one-time token, only that version and only while the deployment is active; and refuses to delete it meanwhile", async () => {
    const img = await createImage(t.db, actorOf(owner.user, null), { name: "deployed" });
    const bytes = randomBytes(10_000);
    const v = await readyVersion(img.id, bytes);
    const other = await readyVersion(img.id, randomBytes(100));
    const host = await createHost(t.db, actorOf(admin.user, null), { name: `h-${randomBytes(3).toString("hex")}`, interfaces: [{ mac: `52:54:00:${randomBytes(3).toString("hex").match(/../g)!.join(":")}` }] });
    const token = generateSecret();
    const d = await insertDeployment(t.db, { hostId: host.id, userId: owner.user.id, action: "deploy_image", imageId: img.id, imageVersion: v, tokenHash: hashSecret(token), tokenExpiresAt: new Date(Date.now() + 3600_000) });

    const viaToken = await fetchBlob({ imageId: img.id, version: v, query: `?token=${token}`, headers: { range: "bytes=100-199" } });
    expect(viaToken.status).toBe(206);
    expect(viaToken.body.equals(bytes.subarray(100, 200))).toBe(true);
    expect((await fetchBlob({ imageId: img.id, version: other, query: `?token=${token}` })).status).toBe(404);
    expect((await fetchBlob({ imageId: img.id, version: v, query: `?token=${generateSecret()}` })).status).toBe(404);
    expect((await fetchBlob({ imageId: img.id, version: v, query: "?token=short" })).status).toBe(404);
    expect((await fetchBlob({ imageId: image.id, version: v1, query: `?token=${token}` })).status).toBe(404);

    // In use: the version cannot be deleted, and says why.
    const refused = await callRoute<{ error: { message: string } }>(versionRoute.DELETE, "DELETE", `/api/v1/images/${img.id}/versions/${v}`, { token: owner.token, params: { id: img.id, version: String(v) } });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toBe(`Version ${v} of deployed is in use by 1 active deployment; delete it when they have finished.`);
    expect((await callRoute(imageRoute.DELETE, "DELETE", `/api/v1/images/${img.id}`, { token: owner.token, params: { id: img.id } })).status).toBe(409);
    const shown = await callRoute<{ usedBy: { id: string; state: string; hostName: string }[] }>(versionRoute.GET, "GET", `/api/v1/images/${img.id}/versions/${v}`, { token: owner.token, params: { id: img.id, version: String(v) } });
    expect(shown.body.usedBy).toEqual([expect.objectContaining({ id: d.id, state: "pending", hostName: host.name })]);

    await updateDeploymentRow(t.db, d.id, { state: "done", finishedAt: new Date() });
    expect((await fetchBlob({ imageId: img.id, version: v, query: `?token=${token}` })).status).toBe(404);
    await deleteImageVersion(t.db, actorOf(owner.user, null), img.id, v);
    expect((await fetchBlob({ imageId: img.id, version: v, token: owner.token })).status).toBe(404);
    await expect(fsp.stat(path.join(imagesRoot(), "blobs", img.id, String(v)))).rejects.toThrow();
  });

  it("hands the bytes to nginx with X-Accel-Redirect when configured", async () => {
    setTestEnv({ KILN_ACCEL_REDIRECT_PREFIX: "/protected-images/" });
    const got = await fetchBlob({ imageId: image.id, version: v1, token: owner.token, headers: { range: "bytes=0-9" } });
    expect(got.status).toBe(200);
    expect(got.body.length).toBe(0);
    expect(got.headers.get("x-accel-redirect")).toBe(`/protected-images/blobs/${image.id}/${v1}`);
    expect(got.headers.get("etag")).toBe(`"${sha(data)}"`);
  });
});
