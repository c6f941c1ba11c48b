// "Debian 12 (cloud image)" for the virtual lab and the tests: a build of
// scripts/build-cloud-image.sh imported as a public image, once per build. Kept apart from
// lab.ts because the tests' harness imports it without the lab's machines.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { getImageVersionRow } from "@/db/queries/images";
import { SYSTEM } from "@/lib/access/actor";
import type { Db } from "@/lib/db";
import { getCacheDir } from "@/lib/env";
import { createImage, listImages } from "@/lib/images/images";
import { importImageVersion } from "@/lib/images/import";

export const LAB_CLOUD_IMAGE = "Debian 12 (cloud image)";

/**
 * "Debian 12 (cloud image)" for the lab when this machine has built it (scripts/build-cloud-image.sh,
 * which needs root and a few minutes, and which the cloud-init tests run): imported once per build
 * as a public image. Null when it is not built; the lab does not build it.
 */
export async function offerBuiltCloudImage(db: Db, p: { projectRoot: string; cacheDir?: string }): Promise<{ imageId: string; version: number; created: boolean } | null> {
  const script = path.join(p.projectRoot, "scripts/build-cloud-image.sh");
  const hash = await new Promise<string>((resolve) => execFile("bash", [script, "--hash"], (err, out) => resolve(err ? "" : out.trim())));
  if (!/^[0-9a-f]{32}$/.test(hash)) return null;
  const cacheDir = p.cacheDir ?? getCacheDir();
  const file = path.join(cacheDir, "cloud-image", hash, "debian-12-cloud.img.zst");
  if (!existsSync(file)) return null;
  return importCloudImageBuild(db, { file, inputHash: hash });
}

/**
 * The built file (scripts/build-cloud-image.sh, its input hash) as a version of the public
 * "Debian 12 (cloud image)", created when missing: imported like the lab's demo image (no upload,
 * block map recorded), unless the latest version already is this build. The lab and the tests'
 * harness (test/harness/debian-cloud-image.ts) both import it this way.
 */
export async function importCloudImageBuild(db: Db, p: { file: string; inputHash: string }): Promise<{ imageId: string; version: number; created: boolean }> {
  const notes = `scripts/build-cloud-image.sh ${p.inputHash}`;
  const found = (await listImages(db, SYSTEM, { q: LAB_CLOUD_IMAGE, per_page: 100 })).data.find((i) => i.name === LAB_CLOUD_IMAGE && i.visibility === "public" && i.ownerUserId === null);
  if (found?.latestVersion && (await getImageVersionRow(db, { imageId: found.id, version: found.latestVersion }))?.notes === notes) {
    return { imageId: found.id, version: found.latestVersion, created: false };
  }
  const image =
    found ??
    (await createImage(db, SYSTEM, {
      name: LAB_CLOUD_IMAGE,
      visibility: "public",
      description: "Debian 12 with cloud-init, built from Debian's packages (scripts/build-cloud-image.sh). Deploy it with a cloud-init template: the installed system gets your SSH keys on first boot.",
    }));
  const v = await importImageVersion(db, SYSTEM, { imageId: image.id, file: p.file, notes });
  return { imageId: image.id, version: v.version, created: true };
}
