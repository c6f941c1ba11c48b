// Uploads whose bytes all arrived but whose finish step never ran (a crash in between) are
// finished; abandoned uploads expire (KILN_UPLOAD_EXPIRY_HOURS after creation) and their
// bytes are deleted; a verification whose job was lost is run again. The worker runs this at
// its start too, so a crash is mended when Kiln comes back, not ten minutes later.
import fsp from "node:fs/promises";
import path from "node:path";
import { deleteImageVersionRow, listExpiredImageUploads, listImageUploadIds, listOpenImageUploads, listStuckVerifications, refreshLatestVersion, updateImageVersionFrom } from "@/db/queries/images";
import type { Db } from "../db";
import { getEnv } from "../env";
import { SYSTEM } from "../access/actor";
import { recordAudit } from "../audit/audit";
import { getLogger } from "../log";
import { isUploadId } from "../validation/images";
import { getImageStorage, imagesRoot } from "./storage";
import { finishStoredUpload } from "./uploads";
import { verifyImageVersion } from "./verify";

const STUCK_AFTER_MS = 10 * 60_000;

/**
 * Uploads still `uploading` whose stored bytes reach their declared length: the process that
 * stored the last byte died before the finish step. Each is finished as tus's hook would
 * have (verifying, then the worker's verification), exactly once whoever else notices.
 */
export async function finishStrandedUploads(db: Db, now = new Date()): Promise<number> {
  let finished = 0;
  for (const upload of await listOpenImageUploads(db)) {
    const done = await finishStoredUpload(db, upload.id, { now, by: "housekeeping" }).catch((err) => {
      getLogger("images").error({ err, uploadId: upload.id }, "could not finish a stored upload; the next housekeeping tries again");
      return null;
    });
    if (done?.moved) finished++;
  }
  return finished;
}

export async function expireImageUploads(db: Db, now = new Date()): Promise<number> {
  let expired = 0;
  for (const upload of await listExpiredImageUploads(db, now)) {
    const removed = await db.transaction(async (tx) => {
      // Only a version still receiving bytes: one that reached `verifying` is the worker's.
      const gone = await updateImageVersionFrom(tx, { imageId: upload.imageId, version: upload.version, from: "uploading" }, { state: "failed", failureReason: "upload expired" });
      if (!gone) return false;
      await deleteImageVersionRow(tx, { imageId: upload.imageId, version: upload.version });
      await refreshLatestVersion(tx, upload.imageId);
      await recordAudit(tx, SYSTEM, { action: "image.upload.expire", targetType: "image", targetId: upload.imageId, summary: `the unfinished upload of version ${upload.version} expired`, data: { version: upload.version, uploadId: upload.id } });
      return true;
    });
    if (removed) {
      await getImageStorage().removeUpload(upload.id);
      expired++;
    }
  }
  return expired;
}

/**
 * Files in the upload directory that no upload row names any more (a crash between deleting
 * the row and the bytes), once they are older than the expiry: deleted.
 */
export async function sweepOrphanUploadFiles(db: Db, now = new Date()): Promise<number> {
  if (getEnv().KILN_IMAGE_STORAGE !== "file") return 0;
  const dir = path.join(imagesRoot(), "uploads");
  const names = await fsp.readdir(dir).catch(() => [] as string[]);
  const ids = [...new Set(names.map((n) => n.replace(/\.json$/, "")).filter(isUploadId))];
  const known = await listImageUploadIds(db, ids);
  const maxAge = getEnv().KILN_UPLOAD_EXPIRY_HOURS * 3600_000;
  let removed = 0;
  for (const id of ids) {
    if (known.has(id)) continue;
    const stat = await fsp.stat(path.join(dir, id)).catch(() => fsp.stat(path.join(dir, `${id}.json`)).catch(() => null));
    if (stat && now.getTime() - stat.mtimeMs < maxAge) continue;
    await getImageStorage().removeUpload(id);
    removed++;
  }
  return removed;
}

export async function imageUploadsHousekeeping(db: Db, now = new Date()) {
  // Before expiry: an upload whose bytes are all there is finished, not thrown away.
  const finished = await finishStrandedUploads(db, now);
  const expired = await expireImageUploads(db, now);
  const orphans = await sweepOrphanUploadFiles(db, now);
  let reverified = 0;
  for (const v of await listStuckVerifications(db, new Date(now.getTime() - STUCK_AFTER_MS))) {
    const result = await verifyImageVersion(db, v).catch((err) => {
      getLogger("images").error({ err, ...v }, "verification failed to run");
      return null;
    });
    if (result && result.state !== "skipped") reverified++;
  }
  return { finished, expired, orphans, reverified };
}
