// capture_disk: the agent streams the machine's disk (raw, or compressed as it likes) to
// POST /boot/<mac>/<token>/capture, and it becomes the next version of the image the holder
// chose. Kiln hashes the bytes as they arrive, so the version is ready as soon as the last
// byte is stored — there is no client checksum to trust or doubt — and the run is done.
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { updateDeploymentRow } from "@/db/queries/boot";
import { getImageRow, insertImageVersion, lockImage, nextImageVersion, refreshLatestVersion, updateImageVersionFrom } from "@/db/queries/images";
import type { Db } from "../db";
import { recordAudit, SYSTEM } from "../audit/audit";
import { isActiveRun } from "../hosts/state-machine";
import { detectFormat, FORMAT_HEAD_BYTES } from "../images/format";
import { remainingUserQuota } from "../images/images";
import { getImageStorage } from "../images/storage";
import { getLogger } from "../log";
import { findRunByToken, type AgentAnswer } from "./agent";
import { advance, appendLog, currentStep, emit, extendDeadline, failRun, withRun } from "./engine";

/** How often a capture in progress reports (and moves the step's deadline). */
const PROGRESS_EVERY_MS = 2_000;

const json = (status: number, value: unknown): AgentAnswer => ({ status, contentType: "application/json", body: JSON.stringify(value) });
const refuse = (status: number, message: string) => json(status, { error: { code: status === 409 ? "conflict" : status === 404 ? "not_found" : "validation", message } });

/** POST …/capture — receives the disk and makes it the image's next version. */
export async function receiveCapture(db: Db, p: { mac: string; token: string; body: ReadableStream<Uint8Array> | null; now?: Date }): Promise<AgentAnswer> {
  const found = await findRunByToken(db, p);
  if (!found) return { status: 404, contentType: "text/plain; charset=utf-8", body: "Not found\n" };
  const d = found.deployment;
  if (!isActiveRun(d.state) || d.tokenExpiresAt.getTime() <= Date.now()) return refuse(409, `This run has ended (${d.state}); reports for it are refused.`);
  if (d.action !== "capture_disk" || !d.options.captureImageId) return refuse(404, "This run does not capture a disk.");
  if (d.imageVersion) return refuse(409, `This run already receives version ${d.imageVersion}; a capture is sent once.`);
  if (!p.body) return refuse(400, "Send the disk's bytes as the request body.");
  const imageId = d.options.captureImageId;

  // The version is reserved (and tied to the run) before any byte is stored.
  const reserved = await withRun(db, d.id, async (ctx) => {
    if (!isActiveRun(ctx.run.deployment.state) || ctx.run.deployment.imageVersion) return null;
    const image = await lockImage(ctx.tx, imageId);
    if (!image) return null;
    const version = await nextImageVersion(ctx.tx, imageId);
    await insertImageVersion(ctx.tx, {
      imageId,
      version,
      state: "uploading",
      sizeBytes: 0,
      filename: `${found.host.name}.img`,
      notes: `captured from ${found.host.name} (deployment ${d.id})`,
      uploadedByUserId: d.userId,
    });
    ctx.run.deployment = (await updateDeploymentRow(ctx.tx, d.id, { imageId, imageVersion: version }))!;
    await advance(ctx, "agent");
    await appendLog(ctx, "kiln", [`receiving the disk as version ${version} of ${image.name}`]);
    return { version, name: image.name };
  });
  if (!reserved) return refuse(409, "This run cannot take a capture now (it ended, or its image is gone).");

  const storage = getImageStorage();
  const tmp = path.join(storage.tmpDir, `capture-${d.id}-${randomBytes(4).toString("hex")}`);
  const hash = createHash("sha256");
  let bytes = 0;
  let head = Buffer.alloc(0);
  let lastReport = Date.now();
  let reporting: Promise<unknown> = Promise.resolve();
  const report = () => {
    const at = bytes;
    reporting = reporting.then(() =>
      withRun(db, d.id, async (ctx) => {
        if (!isActiveRun(ctx.run.deployment.state)) return;
        const previous = ctx.run.deployment;
        const seconds = previous.progressAt ? (Date.now() - previous.progressAt.getTime()) / 1000 : 0;
        const rate = seconds > 0 ? Math.round((at - previous.bytesWritten) / seconds) : null;
        ctx.run.deployment = (await updateDeploymentRow(ctx.tx, d.id, { bytesWritten: at, rateBytesPerSecond: rate, progressAt: ctx.at }))!;
        const step = currentStep(ctx.run.steps);
        if (step?.name === "capture") await extendDeadline(ctx, step);
        await emit(ctx, "progress", { step: "capture", bytes: at, totalBytes: null, rateBytesPerSecond: rate, etaSeconds: null, message: null });
      }).catch(() => {}),
    );
  };
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      bytes += chunk.length;
      if (head.length < FORMAT_HEAD_BYTES) head = Buffer.concat([head, chunk.subarray(0, FORMAT_HEAD_BYTES - head.length)]);
      if (Date.now() - lastReport >= PROGRESS_EVERY_MS) {
        lastReport = Date.now();
        report();
      }
      done(null, chunk);
    },
  });

  const failCapture = async (reason: string) => {
    await fsp.rm(tmp, { force: true });
    await reporting;
    // Failing the run marks the reserved version failed too (engine.finishRun).
    await withRun(db, d.id, (ctx) => failRun(ctx, reason, "capture"));
    return refuse(400, reason);
  };

  try {
    await pipeline(Readable.fromWeb(p.body as never), counter, fs.createWriteStream(tmp));
  } catch (e) {
    getLogger("deployments").warn({ deploymentId: d.id, err: e instanceof Error ? e.message : e }, "capture upload broke off");
    return failCapture(`the upload of the disk broke off after ${bytes} bytes`);
  }
  await reporting;
  if (bytes === 0) return failCapture("the agent sent no bytes");
  if (d.userId) {
    const left = await remainingUserQuota(db, d.userId);
    if (bytes > left) return failCapture(`the captured disk (${bytes} bytes) is larger than the ${Math.max(0, left)} bytes left in the storage quota`);
  }
  const sha256 = hash.digest("hex");
  const format = detectFormat(head);
  const key = await storage.putFile(tmp, imageId, reserved.version);

  const outcome = await withRun(db, d.id, async (ctx) => {
    if (!isActiveRun(ctx.run.deployment.state)) return false;
    const row = await updateImageVersionFrom(ctx.tx, { imageId, version: reserved.version, from: "uploading" }, {
      state: "ready",
      sizeBytes: bytes,
      sha256,
      format,
      sourceFormat: format,
      sourceSha256: sha256,
      sourceSizeBytes: bytes,
      storageKey: key,
      readyAt: ctx.at,
    });
    if (!row) return false;
    await refreshLatestVersion(ctx.tx, imageId);
    await recordAudit(ctx.tx, SYSTEM, { action: "image.version.ready", targetType: "image", targetId: imageId, summary: `${reserved.name} version ${reserved.version} captured from ${found.host.name} (${format}, ${bytes} bytes)`, data: { version: reserved.version, sha256, format, deploymentId: d.id } });
    ctx.run.deployment = (await updateDeploymentRow(ctx.tx, d.id, { bytesWritten: bytes, totalBytes: bytes, progressAt: ctx.at }))!;
    await appendLog(ctx, "kiln", [`captured ${bytes} bytes (${format}), sha256 ${sha256}: version ${reserved.version} of ${reserved.name} is ready`]);
    await advance(ctx, "capture", `version ${reserved.version} of ${reserved.name}`);
    return true;
  });
  if (!outcome) {
    // The run ended (or the version was deleted) while the bytes arrived: they belong to nothing.
    await storage.removeBlob(key);
    return refuse(409, "The run ended while the disk arrived; nothing was kept.");
  }
  const image = await getImageRow(db, imageId);
  return json(200, { imageId, imageName: image?.name ?? reserved.name, version: reserved.version, sha256, bytes, format });
}
