// Resumable uploads (tus 1.0, @tus/server 2) of image versions at /api/uploads: the version's
// side of them — who may touch an upload, the version's bookkeeping when the last byte is in,
// verification, cancel. The tus server and its hooks are lib/uploads/tus-server.ts, above this
// folder, because a capture run's agent uploads through it too.
import { Readable } from "node:stream";
import type { Upload } from "@tus/server";
import { completeImageUpload, deleteImageVersionRow, getImageUploadRow, refreshLatestVersion, updateImageUploadRow, updateImageVersionFrom } from "@/db/queries/images";
import { VERIFY_IMAGE_VERSION_JOB } from "./jobs";
import { isAdmin, type Actor } from "../access/actor";
import { recordAudit } from "../audit/audit";
import type { Db } from "../db";
import { AppError } from "../errors";
import { enqueueJob } from "../jobs/enqueue";
import { getLogger } from "../log";
import { isUploadId } from "../validation/images";
import { getImageStorage, type ImageStorage } from "./storage";

const UPLOAD_NOT_FOUND = "No such upload, or not yours.";

/** An upload the actor may touch (its uploader, or an admin); 404 otherwise. */
export async function getOwnUpload(db: Db, actor: Actor, uploadId: string) {
  const row = isUploadId(uploadId) ? await getImageUploadRow(db, uploadId) : undefined;
  // A capture's bytes come from its run's agent only; an administrator may still cancel it.
  const isOwn = actor.user && row?.userId === actor.user.id && !row.deploymentId;
  if (!row || !(isAdmin(actor) || isOwn)) throw new AppError("not_found", UPLOAD_NOT_FOUND);
  return row;
}

export type FinishedUpload = { imageId: string; version: number; moved: boolean };

/**
 * The last byte is in: the version goes to `verifying` and the worker is asked to check it —
 * once. Whoever notices first moves it (tus's finish hook, also run for a zero-length PATCH at
 * the end offset; a HEAD that finds every byte stored; the worker's start-up and housekeeping
 * scan; a capture's done); the UPDATE is
 * guarded by `uploading`, so a second finisher, even a concurrent one, changes nothing and
 * queues nothing (`moved: false`). If the job cannot be queued now, the housekeeping job
 * verifies versions left in `verifying` later.
 */
export async function finishImageUpload(db: Db, uploadId: string, now = new Date(), length?: number): Promise<FinishedUpload | null> {
  const finished = await db.transaction(async (tx) => {
    const row = await getImageUploadRow(tx, uploadId);
    if (!row) return null;
    const ref = { imageId: row.imageId, version: row.version };
    // A deferred-length upload (a capture) learns its size with its last byte.
    const sized = length !== undefined && length !== row.lengthBytes;
    // The version row's lock serialises finishers: the second one finds it no longer uploading.
    const moved = await updateImageVersionFrom(tx, { ...ref, from: "uploading" }, { state: "verifying", ...(sized ? { sizeBytes: length } : {}) });
    if (!moved) return { ...ref, moved: false };
    await completeImageUpload(tx, uploadId, now);
    if (sized) await updateImageUploadRow(tx, uploadId, { lengthBytes: length });
    return { ...ref, moved: true };
  });
  if (finished?.moved) {
    const job = { imageId: finished.imageId, version: finished.version };
    await enqueueJob(VERIFY_IMAGE_VERSION_JOB, job).catch((err) => getLogger("uploads").error({ err, ...job }, "could not queue verification; housekeeping will retry"));
  }
  return finished;
}

/**
 * Finishes an upload whose stored bytes already reach its declared length but whose finish
 * step never ran: the process that stored the last byte died before tus's finish hook (or
 * before the hook's transaction committed). The store, not the database, says how many bytes
 * there are, exactly as a HEAD does. Null when the bytes are not all there yet, the length is
 * still deferred, or the store has no such upload.
 */
export async function finishStoredUpload(db: Db, uploadId: string, opts: { storage?: ImageStorage; now?: Date; by?: string } = {}): Promise<FinishedUpload | null> {
  const storage = opts.storage ?? getImageStorage();
  let stored: Upload;
  try {
    stored = await storage.datastore.getUpload(uploadId);
  } catch {
    return null;
  }
  if (stored.size === undefined || stored.offset !== stored.size) return null;
  if (storage.kind === "s3") await completeS3Upload(storage, uploadId, stored.size);
  const done = await finishImageUpload(db, uploadId, opts.now ?? new Date(), stored.size);
  if (done?.moved) getLogger("uploads").info({ uploadId, imageId: done.imageId, version: done.version, by: opts.by }, "finished an upload whose finish step never ran");
  return done;
}

/**
 * On S3 the bytes are parts of a multipart upload until tus completes it with the last PATCH;
 * a crash right after the last part leaves every byte in the bucket and no object. Writing
 * nothing at the end offset makes the store complete it. Already completed (the object is
 * there): nothing to do.
 */
async function completeS3Upload(storage: ImageStorage, uploadId: string, size: number): Promise<void> {
  try {
    await storage.datastore.write(Readable.from([]), uploadId, size);
  } catch (e) {
    if ((await storage.blobSize(uploadId)) === size) return;
    throw e;
  }
}

/** tus termination (DELETE): the upload and its version are gone, as if never started. */
export async function cancelImageUpload(db: Db, actor: Actor, uploadId: string): Promise<void> {
  await db.transaction(async (tx) => {
    const row = await getImageUploadRow(tx, uploadId);
    if (!row) return;
    const gone = await updateImageVersionFrom(tx, { imageId: row.imageId, version: row.version, from: "uploading" }, { state: "failed", failureReason: "cancelled" });
    if (!gone) return;
    // Cascades to the upload row.
    await deleteImageVersionRow(tx, { imageId: row.imageId, version: row.version });
    await refreshLatestVersion(tx, row.imageId);
    await recordAudit(tx, actor, { action: "image.upload.cancel", targetType: "image", targetId: row.imageId, summary: `cancelled the upload of version ${row.version}`, data: { version: row.version, uploadId } });
  });
}

