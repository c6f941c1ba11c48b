// tus through the node:http entry (handleUploadNode, what Kiln's web server mounts for
// /api/uploads before Next.js): a person with a bearer token and with a session cookie, and a
// capture run's agent with its token, each upload reaching `verifying` once; a dropped PATCH
// resumed; the refusals (no caller, someone else's upload) and a cancel, as the Next route
// answers them.
import { createHash, randomBytes } from "node:crypto";
import fsp from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { encode } from "@auth/core/jwt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getImageVersionRow, listImageVersionRows } from "@/db/queries/images";
import type { UserRow } from "@/db/schema";
import { actorOf } from "@/lib/access/actor";
import { createApiToken } from "@/lib/auth/api-tokens";
import { startSession } from "@/lib/auth/sessions";
import { startDeployment } from "@/lib/deployments/start";
import { getEnv } from "@/lib/env";
import { stopJobSender } from "@/lib/jobs/enqueue";
import { useTestDb } from "@/test/harness/database";
import { setTestEnvDefaults } from "@/test/harness/env";
import { createActiveUser } from "@/test/harness/fixtures";
import { startProvisioningSetup, seedReadyImage, type ProvisioningSetup } from "@/test/harness/provisioning";
import { encodeMetadata, tusCreate, tusDelete, tusHead, tusPatch, tusPatchCut } from "@/test/harness/tus";
import { createImage } from "./images";
import { handleUploadNode } from "@/lib/uploads/tus-server";

const t = await useTestDb();
const dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), "kiln-uploads-node-test-"));
setTestEnvDefaults({ KILN_DATA_DIR: dataDir, AUTH_SECRET: "uploads-node-test-secret-0123456789abcdef" });

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

let server: http.Server;
let endpoint: string;
let alice: { user: UserRow; token: string };
let bob: { user: UserRow; token: string };
let setup: ProvisioningSetup;

beforeAll(async () => {
  server = http.createServer((req, res) => void handleUploadNode(req, res));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/uploads`;
  for (const who of ["alice", "bob"] as const) {
    const { user } = await createActiveUser(t.db);
    const p = { user, token: (await createApiToken(t.db, user.id, { name: "node" })).token };
    if (who === "alice") alice = p;
    else bob = p;
  }
  setup = await startProvisioningSetup(t.db, { name: "upnode", macByte: 0xd1 });
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await setup?.close();
  await stopJobSender();
  await fsp.rm(dataDir, { recursive: true, force: true });
});

/** The Auth.js session cookie of a signed-in person, as the sign-in would have set it. */
async function sessionCookie(user: UserRow): Promise<string> {
  const sid = await startSession(t.db, user, { ip: "127.0.0.1", userAgent: "test" });
  const name = "authjs.session-token";
  const jwt = await encode({ token: { sub: user.id, sid }, secret: getEnv().AUTH_SECRET!, salt: name });
  return `${name}=${jwt}`;
}

function raw(method: string, url: string, headers: Record<string, string>, body?: Buffer): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: { "Tus-Resumable": "1.0.0", ...headers, ...(body ? { "Content-Length": String(body.length) } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("tus through handleUploadNode", () => {
  it("a person with a bearer token uploads in two PATCHes, one of them dropped and resumed; the version goes to verifying once", async () => {
    const image = await createImage(t.db, actorOf(alice.user, null), { name: "node-bearer" });
    const data = randomBytes(2 * 1024 * 1024 + 5);
    const created = await tusCreate(endpoint, alice.token, data.length, { imageId: image.id, filename: "disk.img" });
    expect(created.status, created.body).toBe(201);
    expect(created.headers["kiln-image-version"]).toBe("1");
    expect(created.headers["cache-control"]).toBe("no-store");
    const url = created.location!;
    await tusPatchCut(url, alice.token, 0, data, 700_000);
    const head = await tusHead(url, alice.token);
    expect(head.status).toBe(200);
    expect(head.offset).toBeLessThan(data.length);
    const last = await tusPatch(url, alice.token, head.offset, data.subarray(head.offset));
    expect(last.status, last.body).toBe(204);
    expect(last.headers["kiln-image-version"]).toBe("1");
    const v = await getImageVersionRow(t.db, { imageId: image.id, version: 1 });
    expect(v?.state).toBe("verifying");
    expect(sha(await fsp.readFile(path.join(dataDir, "images", "uploads", url.split("/").pop()!)))).toBe(sha(data));
  });

  it("a person with a session cookie uploads; without any credentials it is a 401 with Kiln's error body", async () => {
    const image = await createImage(t.db, actorOf(bob.user, null), { name: "node-session" });
    const cookie = await sessionCookie(bob.user);
    const data = randomBytes(300_000);
    const created = await raw("POST", endpoint, { Cookie: cookie, "Upload-Length": String(data.length), "Upload-Metadata": encodeMetadata({ imageId: image.id, filename: "s.img" }) });
    expect(created.status, created.body).toBe(201);
    const url = new URL(created.headers.location!, endpoint).toString();
    const patched = await raw("PATCH", url, { Cookie: cookie, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream" }, data);
    expect(patched.status, patched.body).toBe(204);
    expect((await getImageVersionRow(t.db, { imageId: image.id, version: 1 }))?.state).toBe("verifying");

    const anonymous = await raw("POST", endpoint, { "Upload-Length": "10", "Upload-Metadata": `imageId ${Buffer.from(image.id).toString("base64")}` });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers["tus-resumable"]).toBe("1.0.0");
    expect(JSON.parse(anonymous.body)).toEqual({ error: { code: "unauthorized", message: expect.stringContaining("Sign in") } });
    const forged = await raw("POST", endpoint, { Cookie: `authjs.session-token=${"x".repeat(40)}`, "Upload-Length": "10" });
    expect(forged.status).toBe(401);
  });

  it("someone else's upload is a 404; its owner's DELETE cancels it and its version is gone", async () => {
    const image = await createImage(t.db, actorOf(alice.user, null), { name: "node-cancel" });
    const created = await tusCreate(endpoint, alice.token, 1000, { imageId: image.id, filename: "c.img" });
    expect(created.status).toBe(201);
    const url = created.location!;
    const theirs = await tusPatch(url, bob.token, 0, randomBytes(1000));
    expect(theirs.status).toBe(404);
    expect(JSON.parse(theirs.body).error.code).toBe("not_found");
    expect((await tusHead(url, bob.token)).status).toBe(404);
    expect((await tusDelete(url, alice.token)).status).toBe(204);
    expect(await listImageVersionRows(t.db, image.id)).toEqual([]);
  });

  it("a capture run's agent uploads with its run token (Kiln-Run); the captured version goes to verifying", async () => {
    const { hostId, machine } = await setup.heldHost();
    const img = await seedReadyImage(t.db, { ownerUserId: setup.holder.user!.id });
    await startDeployment(t.db, setup.holder, hostId, { action: "capture_disk", imageId: img.image.id });
    await machine.boot();
    await machine.instructions();
    const runAuth = `Kiln-Run ${machine.mac} ${machine.token}`;
    const disk = Buffer.concat([Buffer.alloc(510), Buffer.from([0x55, 0xaa]), randomBytes(400 * 1024)]);
    const created = await raw("POST", endpoint, { Authorization: runAuth, "Upload-Defer-Length": "1" });
    expect(created.status, created.body).toBe(201);
    const url = new URL(created.headers.location!, endpoint).toString();
    const half = 200 * 1024;
    expect((await raw("PATCH", url, { Authorization: runAuth, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream" }, disk.subarray(0, half))).status).toBe(204);
    const last = await raw("PATCH", url, { Authorization: runAuth, "Upload-Offset": String(half), "Upload-Length": String(disk.length), "Content-Type": "application/offset+octet-stream" }, disk.subarray(half));
    expect(last.status, last.body).toBe(204);
    expect(await getImageVersionRow(t.db, { imageId: img.image.id, version: 2 })).toMatchObject({ state: "verifying", sizeBytes: disk.length });
    // A person's token cannot touch the capture's upload.
    expect((await tusHead(url, alice.token)).status).toBe(404);
    const wrong = await raw("HEAD", url, { Authorization: `Kiln-Run ${machine.mac} ${"a".repeat(43)}` });
    expect(wrong.status).toBe(401);
  });
});
