// capture_disk: the agent uploads the machine's disk as the next version of the image the
// holder chose, through the same tus endpoint as a browser (/api/uploads), so a capture that
// loses its connection resumes where the server's offset says instead of starting over.
//
// The agent authenticates with its run's one-time token (`Authorization: Kiln-Run <mac>
// <token>`), creates one upload of deferred length (it cannot know the compressed size in
// advance), sends the disk in chunks, declares the length with the last one, and then
// reports done with the sha256 of everything it sent. Kiln's worker verifies the stored bytes
// like any upload; the run is done when the version is ready and both hashes agree.
import { updateDeploymentRow } from "@/db/queries/boot";
import {
  getImageRow,
  getImageUploadOfVersion,
  getImageUploadRow,
  getImageVersionRow,
  insertImageUpload,
  insertImageVersion,
  lockImage,
  lockImageVersion,
  nextImageVersion,
  updateImageVersionFrom,
} from "@/db/queries/images";
import type { ImageUploadRow } from "@/db/schema";
import type { Db } from "../db";
import { SYSTEM } from "../access/actor";
import { recordAudit } from "../audit/audit";
import { AppError } from "../errors";
import { isActiveDeployment } from "../hosts/state-machine";
import { assertStorageQuota, failReadyVersion, uploadExpiry } from "../images/images";
import { getImageStorage } from "../images/storage";
import { isUploadId, UPLOAD_PATH } from "../validation/images";
import { findDeploymentByToken, json, type AgentAnswer, type Found } from "./deployment-auth";
import { advance, appendLog, currentStep, extendDeadline, failDeployment, withDeployment, type DeploymentContext } from "./engine";

const conflict = (message: string) => json(409, { error: { code: "conflict", message } });
const endedRun = (state: string) => new AppError("conflict", `This run has ended (${state}); its token uploads nothing more.`);

/**
 * The capture run behind `Authorization: Kiln-Run <mac> <token>`. 401 when the token does not
 * match (nothing revealed), 409 when the run has ended, 403 when it does not capture a disk.
 */
export async function getCaptureDeployment(db: Db, authorization: string, now = new Date()): Promise<Found> {
  const [, mac = "", token = ""] = authorization.trim().split(/\s+/);
  const found = await findDeploymentByToken(db, { mac, token });
  if (!found) throw new AppError("unauthorized", "This run token is not valid (or not for this machine).");
  const d = found.deployment;
  if (!isActiveDeployment(d.state) || d.tokenExpiresAt.getTime() <= now.getTime()) throw endedRun(d.state);
  if (d.action !== "capture_disk" || !d.options.captureImageId) throw new AppError("forbidden", "This run does not capture a disk; its token cannot upload images.");
  return found;
}

/**
 * tus creation by the agent: reserves the image's next version for this run (state
 * `uploading`, size 0 until bytes arrive) and the upload row that ties it to the run. One
 * capture per run: a second creation is refused, the first upload is resumed instead.
 */
export async function beginCaptureUpload(db: Db, found: Found, p: { uploadId: string; length: number | undefined; now?: Date }): Promise<{ imageId: string; version: number }> {
  const imageId = found.deployment.options.captureImageId!;
  if (p.length !== undefined && p.length <= 0) throw new AppError("bad_request", "A captured disk cannot be empty (Upload-Length is 0).");
  const reserved = await withDeployment(
    db,
    found.deployment.id,
    async (ctx) => {
      const d = ctx.run.deployment;
      if (!isActiveDeployment(d.state)) throw endedRun(d.state);
      if (d.imageVersion) {
        // Named, so an agent whose creation answer was lost can resume instead of failing.
        const upload = d.imageId ? await getImageUploadOfVersion(ctx.tx, { imageId: d.imageId, version: d.imageVersion }) : undefined;
        throw new AppError("conflict", `This run already uploads version ${d.imageVersion}${upload ? ` at ${UPLOAD_PATH}/${upload.id}` : ""}; resume that upload (HEAD, then PATCH) instead of creating another.`);
      }
      const image = await lockImage(ctx.tx, imageId);
      if (!image) throw new AppError("not_found", "The image this run captures into was deleted.");
      const length = p.length ?? 0;
      if (d.userId && length > 0) await assertStorageQuota(ctx.tx, { userId: d.userId, projectId: image.projectId, length });
      const version = await nextImageVersion(ctx.tx, imageId);
      await insertImageVersion(ctx.tx, {
        imageId,
        version,
        state: "uploading",
        sizeBytes: length,
        filename: `${found.host.name}.img`,
        notes: `captured from ${found.host.name} (deployment ${d.id})`,
        uploadedByUserId: d.userId,
      });
      await insertImageUpload(ctx.tx, {
        id: p.uploadId,
        imageId,
        version,
        userId: d.userId,
        projectId: image.projectId,
        lengthBytes: length,
        deploymentId: d.id,
        expiresAt: uploadExpiry(ctx.at),
      });
      ctx.run.deployment = (await updateDeploymentRow(ctx.tx, d.id, { imageId, imageVersion: version }))!;
      await advance(ctx, "agent");
      await appendLog(ctx, "kiln", [`receiving the disk as version ${version} of ${image.name} (upload ${p.uploadId})`]);
      return { imageId, version };
    },
    p.now,
  );
  if (!reserved) throw new AppError("not_found", "This run no longer exists.");
  return reserved;
}

/**
 * Every request of the agent on an existing upload: the upload must be its run's. A PATCH
 * first reserves its bytes against the holder's storage quota (the total is not known in
 * advance), so a disk that does not fit stops at the chunk that would overflow, with 413.
 */
export async function checkCaptureRequest(db: Db, found: Found, p: { uploadId: string; method: string; offset: number | null; bodyBytes: number | null }): Promise<ImageUploadRow> {
  const row = isUploadId(p.uploadId) ? await getImageUploadRow(db, p.uploadId) : undefined;
  if (!row || row.deploymentId !== found.deployment.id) throw new AppError("not_found", "No such upload, or not this run's.");
  if (p.method === "DELETE") throw new AppError("forbidden", "A run cannot cancel its capture; report failed instead (the version is then discarded).");
  if (p.method !== "PATCH") return row;
  if (p.bodyBytes === null || !Number.isSafeInteger(p.bodyBytes) || p.offset === null || !Number.isSafeInteger(p.offset)) {
    throw new AppError("bad_request", "Send each chunk with Content-Length and Upload-Offset: its bytes are counted against the storage quota before they are stored.");
  }
  const end = p.offset + p.bodyBytes;
  const userId = found.deployment.userId;
  await db.transaction(async (tx) => {
    const v = await lockImageVersion(tx, { imageId: row.imageId, version: row.version });
    if (!v || v.state !== "uploading") throw new AppError("conflict", `Version ${row.version} is no longer receiving bytes (${v?.state ?? "deleted"}).`);
    if (end <= v.sizeBytes) return;
    if (userId) await assertStorageQuota(tx, { userId, projectId: row.projectId, length: end - v.sizeBytes });
    await updateImageVersionFrom(tx, { imageId: row.imageId, version: row.version, from: "uploading" }, { sizeBytes: end });
  });
  return row;
}

/** The last byte is in (the worker verifies next): said in the run's log. */
export async function noteCaptureReceived(db: Db, found: Found, p: { imageId: string; version: number; bytes: number }): Promise<void> {
  await withDeployment(db, found.deployment.id, async (ctx) => {
    if (isActiveDeployment(ctx.run.deployment.state)) await appendLog(ctx, "kiln", [`received ${p.bytes} bytes; verifying version ${p.version}`]);
  });
}

/**
 * POST …/done from a capture run's agent, with the sha256 and size of what it sent. Answered
 * 202 while the worker still verifies the stored bytes (the agent asks again), 200 when the
 * version is ready with the same sha256 (the run is done), 409 with the reason when the
 * version failed or the hashes differ (the run fails).
 */
export async function settleCapture(ctx: DeploymentContext, info: { sha256?: string; bytes?: number }): Promise<AgentAnswer> {
  const d = ctx.run.deployment;
  if (!d.imageId || !d.imageVersion) {
    await failDeployment(ctx, "the agent reported done, but no upload of the disk reached Kiln", "capture");
    return conflict("No upload of the disk reached Kiln; the run failed.");
  }
  const v = await getImageVersionRow(ctx.tx, { imageId: d.imageId, version: d.imageVersion });
  const image = await getImageRow(ctx.tx, d.imageId);
  const label = `version ${d.imageVersion} of ${image?.name ?? "the image"}`;
  const step = currentStep(ctx.run.steps);
  if (!v || v.state === "failed") {
    const reason = `the captured disk was not accepted: ${v?.failureReason ?? "the version was deleted"}`;
    await failDeployment(ctx, reason, "capture");
    return conflict(reason);
  }
  if (v.state === "uploading") {
    // Every byte may be stored while the finish step never ran (the web process died right
    // after the last one, and the agent's retry found the offset complete): finish it now, as
    // tus's hook would have, and let the agent ask again while the worker verifies.
    const upload = await getImageUploadOfVersion(ctx.tx, { imageId: d.imageId, version: d.imageVersion });
    const stored = upload ? await getImageStorage().datastore.getUpload(upload.id).catch(() => null) : null;
    if (upload && stored && stored.size !== undefined && stored.offset === stored.size) {
      const db = ctx.db;
      // After this run's transaction: the finish takes the version's row lock itself.
      ctx.followups.push(() => import("../images/uploads").then((m) => m.finishStoredUpload(db, upload.id, { by: "capture done" })));
      await appendLog(ctx, "kiln", [`received ${stored.size} bytes (the upload's finish step had not run); verifying version ${d.imageVersion}`]);
      if (step?.name === "capture") await extendDeadline(ctx, step);
      return json(202, { state: "verifying", message: `Kiln is verifying ${label}; report done again in a few seconds.` });
    }
    return conflict(`The upload of ${label} is not complete (${v.sizeBytes} bytes reserved); send the rest, then report done.`);
  }
  if (v.state === "verifying") {
    if (info.sha256 && !v.expectedSha256) {
      // The worker may not have read the version yet: then it compares for us.
      await updateImageVersionFrom(ctx.tx, { imageId: d.imageId, version: d.imageVersion, from: "verifying" }, { expectedSha256: info.sha256 });
      await appendLog(ctx, "agent", [`upload complete: ${info.bytes ?? "?"} bytes, sha256 ${info.sha256}; Kiln verifies ${label}`]);
    }
    if (step?.name === "capture") await extendDeadline(ctx, step);
    return json(202, { state: "verifying", message: `Kiln is verifying ${label}; report done again in a few seconds.` });
  }
  // ready
  if (info.sha256 && v.sourceSha256 !== info.sha256) {
    const reason = `checksum mismatch: the agent sent sha256 ${info.sha256}, Kiln stored ${v.sourceSha256} — the upload was corrupted on the way`;
    const gone = await failReadyVersion(ctx.tx, { imageId: d.imageId, version: d.imageVersion, reason: reason.slice(0, 500) });
    if (gone) {
      const key = v.storageKey;
      if (key) ctx.followups.push(() => getImageStorage().removeBlob(key));
    }
    await failDeployment(ctx, reason, "capture");
    return conflict(reason);
  }
  // Progress stays in the disk's bytes, as the agent reported it (the version's size is the compressed one).
  await appendLog(ctx, "kiln", [`captured ${v.sizeBytes} bytes (${v.format}), sha256 ${v.sha256}: ${label} is ready`]);
  await recordAudit(ctx.tx, SYSTEM, { action: "image.version.captured", targetType: "image", targetId: d.imageId, summary: `${label} captured from the machine (deployment ${d.id})`, data: { version: d.imageVersion, deploymentId: d.id, sha256: v.sha256 } });
  await advance(ctx, "capture", label);
  return json(200, { imageId: d.imageId, imageName: image?.name ?? null, version: d.imageVersion, sha256: v.sha256, bytes: v.sizeBytes, format: v.format });
}
