// After an upload completes: hash the bytes (streaming), detect the format, compare the
// client's checksum, convert qcow2 to raw, record the block map of the logical image
// (./block-map.ts), and mark the version ready — or failed with the
// reason. Runs in the worker; safe to run twice (it acts only on a version still in
// `verifying`, and every state change is a guarded UPDATE).
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { deleteImageUploadRow, getImageRow, getImageUploadOfVersion, getImageVersionRow, refreshLatestVersion, updateImageVersionFrom } from "@/db/queries/images";
import type { ImageBlockMap, ImageFormat } from "@/db/schema";
import type { Db } from "../db";
import { SYSTEM } from "../access/actor";
import { recordAudit } from "../audit/audit";
import { getLogger } from "../log";
import { computeBlockMap } from "./block-map";
import { detectFormat, FORMAT_HEAD_BYTES } from "./format";
import { remainingUserQuota } from "./images";
import { getImageStorage, readHead } from "./storage";

const execFileP = promisify(execFile);

export type VerifyResult = { state: "ready" | "failed" | "skipped"; reason?: string; sha256?: string; format?: ImageFormat };

/** sha256 (hex) of a file, read in 4 MiB pieces. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(fs.createReadStream(file, { highWaterMark: 4 * 1024 * 1024 }), hash);
  return hash.digest("hex");
}

class VerifyFailure extends Error {}

type QemuInfo = { "virtual-size"?: number; "backing-filename"?: string; "full-backing-filename"?: string; "format-specific"?: { data?: { "data-file"?: string; corrupt?: boolean } } };

/**
 * qcow2 → raw with qemu-img. A qcow2 file can name other files (a backing file, an external
 * data file) that qemu-img would read and copy into the output: an upload could then pull
 * any file of this server into an image its owner downloads. Such images are refused before
 * conversion, as are images whose raw form would not fit the uploader's quota.
 */
async function convertQcow2(src: string, dst: string, quotaLeft: number | null): Promise<void> {
  let info: QemuInfo;
  try {
    const { stdout } = await execFileP("qemu-img", ["info", "--output=json", "-f", "qcow2", src], { maxBuffer: 1024 * 1024 });
    info = JSON.parse(stdout) as QemuInfo;
  } catch (e) {
    throw new VerifyFailure(`not a readable qcow2 image: ${((e as { stderr?: string }).stderr ?? (e as Error).message).trim().slice(0, 300)}`);
  }
  if (info["backing-filename"] || info["full-backing-filename"]) throw new VerifyFailure("qcow2 images with a backing file are not accepted; flatten it first (qemu-img convert -O qcow2 in.qcow2 out.qcow2)");
  if (info["format-specific"]?.data?.["data-file"]) throw new VerifyFailure("qcow2 images with an external data file are not accepted");
  if (info["format-specific"]?.data?.corrupt) throw new VerifyFailure("the qcow2 image is marked corrupt");
  const virtual = info["virtual-size"] ?? 0;
  if (quotaLeft !== null && virtual > quotaLeft) {
    throw new VerifyFailure(`converted to raw this qcow2 image would be ${virtual} bytes, more than the ${Math.max(0, quotaLeft)} bytes left in the uploader's quota`);
  }
  try {
    await execFileP("qemu-img", ["convert", "-q", "-f", "qcow2", "-O", "raw", src, dst], { maxBuffer: 1024 * 1024 });
  } catch (e) {
    await fsp.rm(dst, { force: true });
    throw new VerifyFailure(`qemu-img could not convert the qcow2 image: ${((e as { stderr?: string }).stderr ?? (e as Error).message).trim().slice(0, 300)}`);
  }
}

async function fail(db: Db, p: { imageId: string; version: number; uploadId: string | null; reason: string }): Promise<VerifyResult> {
  // A failed version keeps its record (and reason) but not its bytes: they count against no
  // quota. Deleted first, so nobody sees `failed` while the bytes are still there.
  if (p.uploadId) await getImageStorage().removeUpload(p.uploadId);
  const done = await db.transaction(async (tx) => {
    const row = await updateImageVersionFrom(tx, { imageId: p.imageId, version: p.version, from: "verifying" }, { state: "failed", failureReason: p.reason, storageKey: null });
    if (!row) return false;
    if (p.uploadId) await deleteImageUploadRow(tx, p.uploadId);
    await recordAudit(tx, SYSTEM, { action: "image.version.failed", targetType: "image", targetId: p.imageId, summary: `version ${p.version} failed verification: ${p.reason}`, data: { version: p.version } });
    return true;
  });
  getLogger("images").info({ imageId: p.imageId, version: p.version, reason: p.reason }, "image version failed verification");
  return done ? { state: "failed", reason: p.reason } : { state: "skipped" };
}

export async function verifyImageVersion(db: Db, p: { imageId: string; version: number }): Promise<VerifyResult> {
  const v = await getImageVersionRow(db, p);
  if (!v || v.state !== "verifying") return { state: "skipped" };
  const upload = await getImageUploadOfVersion(db, p);
  if (!upload) return fail(db, { ...p, uploadId: null, reason: "the upload's record is missing" });
  const storage = getImageStorage();

  const arrived = await storage.uploadedBytes(upload.id);
  // A run that stopped between moving the bytes into place and recording it: carry on from there.
  const adopted = arrived === null ? await storage.findAdopted(p.imageId, p.version) : null;
  // A truncated or vanished upload must never become ready, whatever the bookkeeping says.
  if ((adopted ? adopted.size : arrived) !== upload.lengthBytes) {
    if (adopted) await storage.removeBlob(adopted.key);
    return fail(db, { ...p, uploadId: upload.id, reason: arrived === null ? "the uploaded bytes are missing" : `the upload is incomplete: ${arrived} of ${upload.lengthBytes} bytes arrived` });
  }

  const local = adopted ? { path: adopted.path, release: async () => {} } : await storage.localCopyOfUpload(upload.id);
  let converted: string | null = null;
  try {
    const sourceFormat = detectFormat(await readHead(local.path, FORMAT_HEAD_BYTES));
    const sourceSha256 = await sha256File(local.path);
    if (v.expectedSha256 && v.expectedSha256 !== sourceSha256) {
      return await fail(db, { ...p, uploadId: upload.id, reason: `checksum mismatch: expected ${v.expectedSha256}, got ${sourceSha256}` });
    }

    let key: string;
    let sha256 = sourceSha256;
    let format = sourceFormat;
    let sizeBytes = upload.lengthBytes;
    // Which ranges of the logical (decompressed) image hold data: the deploy agent writes only those.
    let blockMap: ImageBlockMap | null = null;
    if (sourceFormat === "qcow2") {
      converted = path.join(storage.tmpDir, `convert-${p.imageId}-${p.version}-${randomBytes(4).toString("hex")}.raw`);
      const left = v.uploadedByUserId ? (await remainingUserQuota(db, v.uploadedByUserId)) + v.sizeBytes : null;
      await convertQcow2(local.path, converted, left);
      sizeBytes = (await fsp.stat(converted)).size;
      format = detectFormat(await readHead(converted, FORMAT_HEAD_BYTES));
      sha256 = await sha256File(converted);
      blockMap = await computeBlockMap(converted, format, sha256);
      key = await storage.putFile(converted, p.imageId, p.version);
      converted = null;
      await storage.removeUpload(upload.id);
    } else {
      blockMap = await computeBlockMap(local.path, format, sha256);
      key = adopted ? adopted.key : await storage.adoptUpload(upload.id, p.imageId, p.version);
    }

    const ready = await db.transaction(async (tx) => {
      const row = await updateImageVersionFrom(tx, { ...p, from: "verifying" }, {
        state: "ready",
        sha256,
        format,
        sizeBytes,
        sourceFormat,
        sourceSha256,
        sourceSizeBytes: upload.lengthBytes,
        storageKey: key,
        blockMap,
        readyAt: new Date(),
        failureReason: null,
      });
      if (!row) return false;
      await deleteImageUploadRow(tx, upload.id);
      await refreshLatestVersion(tx, p.imageId);
      const image = await getImageRow(tx, p.imageId);
      await recordAudit(tx, SYSTEM, {
        action: "image.version.ready",
        targetType: "image",
        targetId: p.imageId,
        summary: `${image?.name ?? "image"} version ${p.version} is ready (${format}${sourceFormat !== format ? `, converted from ${sourceFormat}` : ""}, ${sizeBytes} bytes)`,
        data: { version: p.version, sha256, format, sourceFormat },
      });
      return true;
    });
    if (!ready) {
      // Deleted while we hashed: the bytes we just placed belong to nothing. Or another run of
      // this verification got there first — its version holds the same key (always on S3,
      // where the upload's object is the blob), and those bytes must stay.
      const now = await getImageVersionRow(db, p);
      if (now?.storageKey !== key) await storage.removeBlob(key);
      return { state: "skipped" };
    }
    return { state: "ready", sha256, format };
  } catch (e) {
    if (e instanceof VerifyFailure) return fail(db, { ...p, uploadId: upload.id, reason: e.message });
    throw e;
  } finally {
    await local.release();
    if (converted) await fsp.rm(converted, { force: true });
  }
}
