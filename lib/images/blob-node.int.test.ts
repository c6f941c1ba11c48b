// The machines' blob path (serveBlobNode on a real node:http server, as the boot server mounts
// it): whole file, HEAD, ranges, If-Range, If-None-Match, 416, who may read (the deployment's
// token, only its version, only while active), and a client that hangs up mid-file leaves no
// open file behind.
import { createHash, randomBytes, randomInt } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insertDeployment, updateDeploymentRow } from "@/db/queries/boot";
import { insertImageVersion, nextImageVersion, refreshLatestVersion } from "@/db/queries/images";
import type { UserRow } from "@/db/schema";
import { actorOf } from "@/lib/access/actor";
import { generateSecret, hashSecret } from "@/lib/auth/secrets";
import { createHost } from "@/lib/hosts/hosts";
import { useTestDb } from "@/test/harness/database";
import { setTestEnvDefaults } from "@/test/harness/env";
import { createActiveUser } from "@/test/harness/fixtures";
import { NODE_BLOB_CHUNK, serveBlobNode } from "./blob-node";
import { createImage } from "./images";
import { imagesRoot } from "./storage";

const t = await useTestDb();
const dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), "kiln-blob-node-test-"));
setTestEnvDefaults({ KILN_DATA_DIR: dataDir });

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

let owner: UserRow;
let admin: UserRow;
let server: http.Server;
/** Downloads whose serveBlobNode has not returned yet: a hung-up client's must return too. */
let active = 0;
let base: string;

async function readyVersion(imageId: string, bytes: Buffer): Promise<number> {
  const version = await nextImageVersion(t.db, imageId);
  const key = `blobs/${imageId}/${version}`;
  await fsp.mkdir(path.join(imagesRoot(), "blobs", imageId), { recursive: true });
  await fsp.writeFile(path.join(imagesRoot(), key), bytes);
  await insertImageVersion(t.db, { imageId, version, state: "ready", sizeBytes: bytes.length, sha256: sha(bytes), format: "unknown", sourceFormat: "unknown", storageKey: key, uploadedByUserId: owner.id, readyAt: new Date() });
  await refreshLatestVersion(t.db, imageId);
  return version;
}

async function deploymentToken(imageId: string, version: number) {
  const host = await createHost(t.db, actorOf(admin, null), { name: `h-${randomBytes(3).toString("hex")}`, interfaces: [{ mac: `52:54:00:${randomBytes(3).toString("hex").match(/../g)!.join(":")}` }] });
  const token = generateSecret();
  const d = await insertDeployment(t.db, { hostId: host.id, userId: owner.id, action: "deploy_image", imageId, imageVersion: version, tokenHash: hashSecret(token), tokenExpiresAt: new Date(Date.now() + 3600_000) });
  return { token, deploymentId: d.id };
}

type Got = { status: number; headers: http.IncomingHttpHeaders; body: Buffer };

function get(urlPath: string, p: { method?: string; headers?: Record<string, string> } = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${urlPath}`, { method: p.method ?? "GET", headers: p.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

/** This process's open descriptors of the version's file (the test's own server runs in this process). */
const openBlobFds = (file: string) =>
  fs.readdirSync("/proc/self/fd").filter((fd) => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`) === file;
    } catch {
      return false;
    }
  }).length;

let image: { id: string };
let data: Buffer;
let v1: number;
let token: string;
let deploymentId: string;

beforeAll(async () => {
  ({ user: owner } = await createActiveUser(t.db));
  ({ user: admin } = await createActiveUser(t.db, { admin: true }));
  image = await createImage(t.db, actorOf(owner, null), { name: "debian 13" });
  // Not a multiple of the read size, so the last read is short.
  data = randomBytes(3 * NODE_BLOB_CHUNK + 12_345);
  v1 = await readyVersion(image.id, data);
  ({ token, deploymentId } = await deploymentToken(image.id, v1));
  server = http.createServer((req, res) => {
    const url = new URL(req.url!, "http://x");
    const [, , id, , ref] = url.pathname.split("/");
    active++;
    void serveBlobNode(t.db, req, res, { imageId: id!, ref: ref!, token: url.searchParams.get("token") }).finally(() => active--);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await fsp.rm(dataDir, { recursive: true, force: true });
});

const blobPath = (v: number | string, q = `?token=${token}`) => `/images/${image.id}/versions/${v}/blob${q}`;

describe("serveBlobNode", () => {
  it("sends the whole file with its length, ETag and Accept-Ranges; HEAD sends the headers alone", async () => {
    const got = await get(blobPath(v1));
    expect(got.status).toBe(200);
    expect(got.body.equals(data)).toBe(true);
    expect(got.headers).toMatchObject({
      "content-length": String(data.length),
      "accept-ranges": "bytes",
      etag: `"${sha(data)}"`,
      "content-type": "application/octet-stream",
      "content-disposition": `attachment; filename="debian_13-v${v1}.img"`,
      "x-kiln-sha256": sha(data),
    });
    const head = await get(blobPath(v1), { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(head.headers["content-length"]).toBe(String(data.length));
    expect(head.headers.etag).toBe(`"${sha(data)}"`);
  });

  it("answers ranges byte-exact at random offsets (closed, open-ended, suffix), across read boundaries", async () => {
    for (let i = 0; i < 30; i++) {
      const kind = i % 3;
      const a = randomInt(0, data.length);
      const b = randomInt(a, Math.min(data.length, a + 2 * NODE_BLOB_CHUNK + 7));
      const n = randomInt(1, data.length + 10);
      const [range, start, end] =
        kind === 0 ? [`bytes=${a}-${b}`, a, b] : kind === 1 ? [`bytes=${a}-`, a, data.length - 1] : [`bytes=-${n}`, Math.max(0, data.length - n), data.length - 1];
      const got = await get(blobPath(v1), { headers: { range } });
      const whole = start === 0 && end === data.length - 1;
      expect({ range, status: got.status }).toEqual({ range, status: whole ? 200 : 206 });
      expect(got.body.equals(data.subarray(start, end + 1)), range).toBe(true);
      expect(got.headers["content-length"]).toBe(String(end - start + 1));
      if (!whole) expect(got.headers["content-range"]).toBe(`bytes ${start}-${end}/${data.length}`);
    }
  });

  it("honours If-Range (the ETag only), If-None-Match, and says 416 outside the file", async () => {
    const etag = `"${sha(data)}"`;
    const same = await get(blobPath(v1), { headers: { range: "bytes=10-19", "if-range": etag } });
    expect(same.status).toBe(206);
    expect(same.body.equals(data.subarray(10, 20))).toBe(true);
    const changed = await get(blobPath(v1), { headers: { range: "bytes=10-19", "if-range": `"${"0".repeat(64)}"` } });
    expect(changed.status).toBe(200);
    expect(changed.body.length).toBe(data.length);
    const dated = await get(blobPath(v1), { headers: { range: "bytes=10-19", "if-range": new Date().toUTCString() } });
    expect(dated.status).toBe(200);
    const cached = await get(blobPath(v1), { headers: { "if-none-match": etag } });
    expect(cached.status).toBe(304);
    expect(cached.body.length).toBe(0);
    const outside = await get(blobPath(v1), { headers: { range: `bytes=${data.length}-` } });
    expect(outside.status).toBe(416);
    expect(outside.headers["content-range"]).toBe(`bytes */${data.length}`);
    expect(outside.body.toString()).toBe(`The range is outside the ${data.length} bytes of this image.\n`);
  });

  it("opens only the deployment's version, while it is active; anything else is the same 404 with a message", async () => {
    const other = await readyVersion(image.id, randomBytes(100));
    expect((await get(blobPath("latest"))).status).toBe(404); // latest is now `other`
    expect((await get(blobPath(other))).status).toBe(404);
    const wrong = await get(blobPath(v1, `?token=${generateSecret()}`));
    expect(wrong.status).toBe(404);
    expect(JSON.parse(wrong.body.toString())).toEqual({ error: { code: "not_found", message: expect.any(String) } });
    expect((await get(blobPath(v1, "?token=short"))).status).toBe(404);
    expect((await get(blobPath("nope"))).status).toBe(404);
    expect((await get(`/images/not-a-uuid/versions/${v1}/blob?token=${token}`)).status).toBe(404);
    expect((await get(blobPath(v1, ""))).status).toBe(401);

    const d2 = await deploymentToken(image.id, other);
    expect((await get(blobPath("latest", `?token=${d2.token}`))).status).toBe(200);
    await updateDeploymentRow(t.db, d2.deploymentId, { state: "done", finishedAt: new Date() });
    expect((await get(blobPath(other, `?token=${d2.token}`))).status).toBe(404);
    expect(deploymentId).toBeTruthy();
  });

  it("a client that hangs up mid-file leaves no open file behind, and others keep downloading", async () => {
    const file = path.join(imagesRoot(), "blobs", image.id, String(v1));
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve, reject) => {
        const req = http.request(`${base}${blobPath(v1)}`, { agent: false }, (res) => {
          let got = 0;
          res.on("data", (c: Buffer) => {
            got += c.length;
            if (got > NODE_BLOB_CHUNK / 2) req.destroy();
          });
          res.on("close", () => resolve());
        });
        req.on("error", () => resolve());
        req.on("close", () => resolve());
        req.end();
        setTimeout(() => reject(new Error("no close")), 10_000).unref();
      });
    }
    const parallel = await Promise.all(Array.from({ length: 4 }, () => get(blobPath(v1))));
    for (const p of parallel) expect(p.body.equals(data)).toBe(true);
    // The server side notices the hang-ups asynchronously: wait until its fds are back.
    const deadline = Date.now() + 5_000;
    while ((active > 0 || openBlobFds(file) > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(active).toBe(0);
    expect(openBlobFds(file)).toBe(0);
  });
});
