// The machines' blob path with S3 storage (Swift's s3api on 127.0.0.1, test/harness/s3-server.ts):
// a GET is redirected (307) to a short-lived presigned URL of the object, which serves the bytes
// and ranges itself; HEAD is answered by Kiln; a refused token never gets a URL.
import { createHash, randomBytes } from "node:crypto";
import fsp from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insertDeployment } from "@/db/queries/boot";
import { insertImageVersion, nextImageVersion, refreshLatestVersion } from "@/db/queries/images";
import { actorOf } from "@/lib/access/actor";
import { generateSecret, hashSecret } from "@/lib/auth/secrets";
import { createHost } from "@/lib/hosts/hosts";
import { useTestDb } from "@/test/harness/database";
import { setTestEnvDefaults } from "@/test/harness/env";
import { createActiveUser } from "@/test/harness/fixtures";
import { startS3Server, type S3ServerHandle } from "@/test/harness/s3-server";
import { PRESIGNED_BLOB_SECONDS, serveBlobNode } from "./blob-node";
import { createImage } from "./images";

const t = await useTestDb();
const dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), "kiln-blob-node-s3-"));
const s3: S3ServerHandle = await startS3Server();
setTestEnvDefaults({ KILN_DATA_DIR: dataDir, ...s3.kilnEnv() });

let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const url = new URL(req.url!, "http://x");
    const [, , id, , ref] = url.pathname.split("/");
    void serveBlobNode(t.db, req, res, { imageId: id!, ref: ref!, token: url.searchParams.get("token") });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await s3.stop();
  await fsp.rm(dataDir, { recursive: true, force: true });
});

describe("serveBlobNode with S3 storage", () => {
  it("redirects a GET to a presigned URL that serves the object and its ranges; HEAD is answered here; a wrong token gets a 404, no URL", async () => {
    const { user } = await createActiveUser(t.db);
    const { user: admin } = await createActiveUser(t.db, { admin: true });
    const image = await createImage(t.db, actorOf(user, null), { name: "s3 image" });
    const bytes = randomBytes(300_000);
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    const version = await nextImageVersion(t.db, image.id);
    const key = `blobs-${image.id}-${version}-test`;
    await s3.client.putObject({ Bucket: s3.bucket, Key: key, Body: bytes });
    await insertImageVersion(t.db, { imageId: image.id, version, state: "ready", sizeBytes: bytes.length, sha256, format: "unknown", sourceFormat: "unknown", storageKey: key, uploadedByUserId: user.id, readyAt: new Date() });
    await refreshLatestVersion(t.db, image.id);
    const host = await createHost(t.db, actorOf(admin, null), { name: `s3-${randomBytes(3).toString("hex")}`, interfaces: [{ mac: `52:54:00:${randomBytes(3).toString("hex").match(/../g)!.join(":")}` }] });
    const token = generateSecret();
    await insertDeployment(t.db, { hostId: host.id, userId: user.id, action: "deploy_image", imageId: image.id, imageVersion: version, tokenHash: hashSecret(token), tokenExpiresAt: new Date(Date.now() + 3600_000) });
    const url = `${base}/images/${image.id}/versions/${version}/blob?token=${token}`;

    const redirect = await fetch(url, { redirect: "manual" });
    expect(redirect.status).toBe(307);
    const location = redirect.headers.get("location")!;
    expect(location.startsWith(s3.endpoint)).toBe(true);
    expect(new URL(location).searchParams.get("X-Amz-Expires")).toBe(String(PRESIGNED_BLOB_SECONDS));
    expect(redirect.headers.get("cache-control")).toBe("no-store");

    const whole = await fetch(url);
    expect(whole.status).toBe(200);
    expect(Buffer.from(await whole.arrayBuffer()).equals(bytes)).toBe(true);
    const part = await fetch(url, { headers: { range: "bytes=1000-1999" } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(1000, 2000))).toBe(true);

    const head = await fetch(url, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(String(bytes.length));
    expect(head.headers.get("etag")).toBe(`"${sha256}"`);

    const refused = await fetch(`${base}/images/${image.id}/versions/${version}/blob?token=${generateSecret()}`, { redirect: "manual" });
    expect(refused.status).toBe(404);
    expect(refused.headers.get("location")).toBeNull();
  });
});
