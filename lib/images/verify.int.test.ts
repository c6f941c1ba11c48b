// The verifier on its own, without tus or a worker: rows and bytes set up by hand, including
// the states a crashed run leaves behind.
import { createHash, randomBytes } from "node:crypto";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { zstdCompressSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getImageVersionRow, insertImageUpload, insertImageVersion, nextImageVersion } from "@/db/queries/images";
import type { UserRow } from "@/db/schema";
import { actorOf } from "@/lib/access/actor";
import { useTestDb } from "@/test/harness/database";
import { setTestEnvDefaults } from "@/test/harness/env";
import { createActiveUser } from "@/test/harness/fixtures";
import { UNKNOWN_FORMAT_WARNING } from "./format";
import { createImage, getImageVersion, listImageVersions } from "./images";
import { getImageStorage, imagesRoot } from "./storage";
import { verifyImageVersion } from "./verify";

const t = await useTestDb();
const dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), "kiln-verify-test-"));
setTestEnvDefaults({ KILN_DATA_DIR: dataDir });
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
let owner: UserRow;

/** A version whose upload has fully arrived and is waiting for the verifier. */
async function arrived(bytes: Buffer, expectedSha256: string | null = null) {
  const image = await createImage(t.db, actorOf(owner, null), { name: `v-${randomBytes(3).toString("hex")}` });
  const version = await nextImageVersion(t.db, image.id);
  const uploadId = randomBytes(16).toString("hex");
  await insertImageVersion(t.db, { imageId: image.id, version, state: "verifying", sizeBytes: bytes.length, expectedSha256, uploadedByUserId: owner.id });
  await insertImageUpload(t.db, { id: uploadId, imageId: image.id, version, userId: owner.id, lengthBytes: bytes.length, completedAt: new Date(), expiresAt: new Date(Date.now() + 3600_000) });
  getImageStorage();
  await fsp.writeFile(path.join(imagesRoot(), "uploads", uploadId), bytes);
  return { imageId: image.id, version, uploadId };
}

beforeAll(async () => {
  owner = (await createActiveUser(t.db)).user;
});
afterAll(() => fsp.rm(dataDir, { recursive: true, force: true }));

describe("verifyImageVersion", () => {
  it("marks a version ready once, and a second run changes nothing", async () => {
    const bytes = randomBytes(50_000);
    const v = await arrived(bytes, sha(bytes));
    expect(await verifyImageVersion(t.db, v)).toEqual({ state: "ready", sha256: sha(bytes), format: "unknown" });
    expect(await verifyImageVersion(t.db, v)).toEqual({ state: "skipped" });
    expect(await getImageVersionRow(t.db, v)).toMatchObject({ state: "ready", sha256: sha(bytes), storageKey: `blobs/${v.imageId}/${v.version}` });
  });

  it("records the block map of the decompressed image: its data ranges, their sha256s, for the stored bytes' sha256", async () => {
    const MiB = 1024 * 1024;
    const logical = Buffer.alloc(20 * MiB);
    randomBytes(MiB).copy(logical, 0);
    randomBytes(2 * MiB).copy(logical, 9 * MiB);
    const blob = zstdCompressSync(logical);
    const v = await arrived(blob, sha(blob));
    expect(await verifyImageVersion(t.db, v)).toEqual({ state: "ready", sha256: sha(blob), format: "zstd" });
    expect((await getImageVersionRow(t.db, v))!.blockMap).toEqual({
      v: 1,
      imageSha256: sha(blob),
      imageSizeBytes: 20 * MiB,
      mappedBytes: 3 * MiB,
      mappedSha256: sha(Buffer.concat([logical.subarray(0, MiB), logical.subarray(9 * MiB, 11 * MiB)])),
      ranges: [
        { start: 0, length: MiB, sha256: sha(logical.subarray(0, MiB)) },
        { start: 9 * MiB, length: 2 * MiB, sha256: sha(logical.subarray(9 * MiB, 11 * MiB)) },
      ],
    });
  });

  it("finishes the job of a run that stopped after moving the bytes into place", async () => {
    const bytes = randomBytes(70_000);
    const v = await arrived(bytes);
    await getImageStorage().adoptUpload(v.uploadId, v.imageId, v.version);
    expect(await verifyImageVersion(t.db, v)).toEqual({ state: "ready", sha256: sha(bytes), format: "unknown" });
  });

  it("fails a version whose bytes are gone, or only partly there", async () => {
    const gone = await arrived(randomBytes(1000));
    await fsp.rm(path.join(imagesRoot(), "uploads", gone.uploadId));
    expect(await verifyImageVersion(t.db, gone)).toEqual({ state: "failed", reason: "the uploaded bytes are missing" });
    const partial = await arrived(randomBytes(1000));
    await fsp.truncate(path.join(imagesRoot(), "uploads", partial.uploadId), 400);
    expect(await verifyImageVersion(t.db, partial)).toEqual({ state: "failed", reason: "the upload is incomplete: 400 of 1000 bytes arrived" });
  });

  it("makes random bytes a ready version of format unknown that warns, in the API's view, that it is not a disk image", async () => {
    const v = await arrived(randomBytes(40_000));
    expect(await verifyImageVersion(t.db, v)).toMatchObject({ state: "ready", format: "unknown" });
    const view = await getImageVersion(t.db, actorOf(owner, null), v.imageId, v.version);
    expect(view.warnings).toEqual([UNKNOWN_FORMAT_WARNING]);
    const listed = (await listImageVersions(t.db, actorOf(owner, null), v.imageId)).find((x) => x.version === v.version)!;
    expect(listed.warnings[0]).toMatch(/^Kiln could not recognise this file as a disk image/);
  });
});
