// `npm run lab` offers "Debian 12 (cloud image)" when this machine has built it: imported once
// per build (found again by the build's hash in the version's notes), nothing when not built.
// The test gives it a cache directory of its own holding a stand-in file under the
// current input hash, so it neither needs the real build nor depends on whether it ran.
import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { zstdCompressSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { getImageVersionRow } from "@/db/queries/images";
import { useTestDb } from "@/test/harness/database";
import { setTestEnvDefaults } from "@/test/harness/env";
import { LAB_CLOUD_IMAGE, offerBuiltCloudImage } from "./cloud-image";

const t = await useTestDb();
const dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-lab-cloud-"));
setTestEnvDefaults({ KILN_DATA_DIR: path.join(dir, "data") });
const cacheDir = path.join(dir, "cache");
afterAll(() => fs.rm(dir, { recursive: true, force: true }));
const root = process.cwd();

describe("the lab's Debian 12 (cloud image)", () => {
  it("is offered only once built, imported once per build", async () => {
    expect(await offerBuiltCloudImage(t.db, { projectRoot: root, cacheDir })).toBeNull();

    const hash = execFileSync("bash", [path.join(root, "scripts/build-cloud-image.sh"), "--hash"], { encoding: "utf8" }).trim();
    const built = path.join(cacheDir, "cloud-image", hash);
    await fs.mkdir(built, { recursive: true });
    // A disk with an MBR signature, zstd-compressed like the real one.
    const disk = Buffer.alloc(4 * 1024 * 1024);
    disk.writeUInt16LE(0xaa55, 510);
    await fs.writeFile(path.join(built, "debian-12-cloud.img.zst"), zstdCompressSync(disk));

    const first = await offerBuiltCloudImage(t.db, { projectRoot: root, cacheDir });
    expect(first).toMatchObject({ created: true, version: 1 });
    const v = (await getImageVersionRow(t.db, { imageId: first!.imageId, version: 1 }))!;
    expect(v).toMatchObject({ state: "ready", format: "zstd", notes: `scripts/build-cloud-image.sh ${hash}` });
    expect(await offerBuiltCloudImage(t.db, { projectRoot: root, cacheDir })).toEqual({ imageId: first!.imageId, version: 1, created: false });
    expect(LAB_CLOUD_IMAGE).toBe("Debian 12 (cloud image)");
  });
});
