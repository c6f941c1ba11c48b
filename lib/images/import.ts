// Images that do not arrive through an upload: a file already on this server (the virtual
// lab's demo image) becomes the next ready version of an image. An operator's act, so only
// administrators and the system may do it, and no quota is charged. The bytes are copied into
// storage and hashed on the way, so the recorded sha256 is that of the stored bytes.
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { insertImageVersion, lockImage, nextImageVersion, refreshLatestVersion, updateImageVersionFrom } from "@/db/queries/images";
import type { ImageFormat } from "@/db/schema";
import type { Db } from "../db";
import { AppError } from "../errors";
import { assertAdmin, type Actor } from "../access/actor";
import { recordAudit } from "../audit/audit";
import { computeBlockMap } from "./block-map";
import { detectFormat, FORMAT_HEAD_BYTES } from "./format";
import { getReadableImage } from "./images";
import { getImageStorage } from "./storage";

export type ImportedVersion = { imageId: string; version: number; sizeBytes: number; sha256: string; format: ImageFormat };

/** Stores `file` as the next version of the image, ready at once. */
export async function importImageVersion(db: Db, actor: Actor, p: { imageId: string; file: string; notes?: string }): Promise<ImportedVersion> {
  assertAdmin(actor, "Only administrators import files from the server's disk; upload the image instead.");
  const image = await getReadableImage(db, actor, p.imageId);
  const stat = await fsp.stat(p.file).catch(() => null);
  if (!stat?.isFile() || stat.size === 0) throw new AppError("bad_request", `${p.file} is not a non-empty file.`);

  const storage = getImageStorage();
  const tmp = path.join(storage.tmpDir, `import-${randomBytes(6).toString("hex")}`);
  const hash = createHash("sha256");
  let head = Buffer.alloc(0);
  let sizeBytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      sizeBytes += chunk.length;
      if (head.length < FORMAT_HEAD_BYTES) head = Buffer.concat([head, chunk.subarray(0, FORMAT_HEAD_BYTES - head.length)]);
      done(null, chunk);
    },
  });
  try {
    await pipeline(fs.createReadStream(p.file, { highWaterMark: 4 * 1024 * 1024 }), counter, fs.createWriteStream(tmp));
    const format = detectFormat(head);
    // Verification converts uploaded qcow2 to raw; an import has no such step, and the deploy
    // agent writes raw bytes only.
    if (format === "qcow2") throw new AppError("bad_request", `${p.file} is qcow2; convert it to raw first (qemu-img convert -O raw).`);
    const sha256 = hash.digest("hex");
    // As verification does for uploads: a mostly empty disk image (a cloud image's free space)
    // is then written by the agent range by range instead of byte by byte (docs/images.md).
    const blockMap = await computeBlockMap(tmp, format, sha256);

    const version = await db.transaction(async (tx) => {
      await lockImage(tx, image.id);
      const v = await nextImageVersion(tx, image.id);
      await insertImageVersion(tx, { imageId: image.id, version: v, state: "uploading", sizeBytes, filename: path.basename(p.file), notes: p.notes ?? "", uploadedByUserId: actor.user?.id ?? null });
      return v;
    });
    let key: string;
    try {
      key = await storage.putFile(tmp, image.id, version);
    } catch (e) {
      await updateImageVersionFrom(db, { imageId: image.id, version, from: "uploading" }, { state: "failed", failureReason: `the import could not store the bytes: ${(e as Error).message}` });
      throw e;
    }
    await db.transaction(async (tx) => {
      await updateImageVersionFrom(tx, { imageId: image.id, version, from: "uploading" }, {
        state: "ready",
        sha256,
        format,
        sourceFormat: format,
        sourceSha256: sha256,
        sourceSizeBytes: sizeBytes,
        storageKey: key,
        blockMap,
        readyAt: new Date(),
      });
      await refreshLatestVersion(tx, image.id);
      await recordAudit(tx, actor, { action: "image.version.ready", targetType: "image", targetId: image.id, summary: `${image.name} version ${version} imported from ${path.basename(p.file)} (${format}, ${sizeBytes} bytes)`, data: { version, sha256, format } });
    });
    return { imageId: image.id, version, sizeBytes, sha256, format };
  } finally {
    await fsp.rm(tmp, { force: true });
  }
}
