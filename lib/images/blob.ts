// Delivery of a version's bytes: GET/HEAD with Range, If-Range, ETag (the sha256, since a
// version never changes) and Content-Length, streamed from storage in 4 MiB pieces and
// never buffered whole. Behind Kiln's own web server a local file is handed to it to send
// (send-file.ts); with KILN_ACCEL_REDIRECT_PREFIX, Kiln only authorizes and nginx sends
// the file (sendfile, its own Range handling).
import { Readable } from "node:stream";
import { getDeploymentByTokenHash } from "@/db/queries/boot";
import { getImageRow, getImageVersionRow } from "@/db/queries/images";
import type { ImageRow, ImageVersionRow } from "@/db/schema";
import type { Db } from "../db";
import type { Actor } from "../audit/audit";
import { hashSecret } from "../auth/secrets";
import { getEnv } from "../env";
import { AppError } from "../errors";
import { CONTENT_LENGTH_HEADER } from "../http/context";
import type { VersionRef } from "../validation/images";
import { canReadImage, IMAGE_NOT_FOUND } from "./images";
import { ifRangeAllows, noneMatch, parseRange } from "./range";
import { formatSendFile, isSendFileEnabled, SEND_FILE_HEADER } from "./send-file";
import { getImageStorage } from "./storage";

export type BlobCaller = { kind: "actor"; actor: Actor } | { kind: "deployment-token"; token: string };

const DEPLOYMENT_TOKEN = /^[A-Za-z0-9_-]{20,100}$/;

/**
 * A deployment's one-time token opens exactly the version that deployment writes, and only
 * while it is pending or running (and its token has not expired).
 */
async function deploymentMayRead(db: Db, token: string, image: ImageRow, version: number, now: Date): Promise<boolean> {
  if (!DEPLOYMENT_TOKEN.test(token)) return false;
  const d = await getDeploymentByTokenHash(db, hashSecret(token));
  return Boolean(
    d && d.imageId === image.id && d.imageVersion === version && (d.state === "pending" || d.state === "running") && d.tokenExpiresAt.getTime() > now.getTime(),
  );
}

/** The ready version a caller asked for, or 404 alike for "no such thing" and "not yours". */
export async function authorizeBlob(db: Db, caller: BlobCaller, imageId: string, ref: VersionRef, now = new Date()): Promise<{ image: ImageRow; version: ImageVersionRow }> {
  const notFound = new AppError("not_found", IMAGE_NOT_FOUND);
  const image = await getImageRow(db, imageId);
  if (!image) throw notFound;
  const number = ref === "latest" ? image.latestVersion : ref;
  if (number === null) throw new AppError("not_found", `Image ${image.name} has no ready version yet.`);
  const allowed = caller.kind === "actor" ? await canReadImage(db, caller.actor, image) : await deploymentMayRead(db, caller.token, image, number, now);
  if (!allowed) throw notFound;
  const version = await getImageVersionRow(db, { imageId, version: number });
  if (!version) throw new AppError("not_found", `Version ${number} of image ${image.name} does not exist.`);
  if (version.state !== "ready" || !version.storageKey || !version.sha256) {
    throw new AppError("not_found", `Version ${number} of image ${image.name} is not ready (${version.state}${version.failureReason ? `: ${version.failureReason}` : ""}).`);
  }
  return { image, version };
}

function downloadName(image: ImageRow, v: ImageVersionRow): string {
  const base = image.name.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^[._]+/, "").slice(0, 80) || "image";
  const ext = v.format === "iso" ? "iso" : v.format === "gzip" ? "gz" : v.format === "zstd" ? "zst" : v.format === "xz" ? "xz" : "img";
  return `${base}-v${v.version}.${ext}`;
}

/** Builds the answer to GET or HEAD of a blob the caller may read. */
export async function blobResponse(p: { image: ImageRow; version: ImageVersionRow; method: string; headers: Headers; viaLatest: boolean }): Promise<Response> {
  const { image, version: v } = p;
  const storage = getImageStorage();
  const key = v.storageKey!;
  const etag = `"${v.sha256}"`;
  const headers = new Headers({
    "Content-Type": "application/octet-stream",
    "Accept-Ranges": "bytes",
    ETag: etag,
    "Last-Modified": (v.readyAt ?? v.createdAt).toUTCString(),
    "Content-Disposition": `attachment; filename="${downloadName(image, v)}"`,
    "X-Kiln-Image-Version": String(v.version),
    "X-Kiln-Sha256": v.sha256!,
    // A numbered version never changes; `latest` moves. Private either way: access is per caller.
    "Cache-Control": p.viaLatest ? "private, no-cache" : "private, max-age=31536000, immutable",
  });

  const accel = getEnv().KILN_ACCEL_REDIRECT_PREFIX;
  if (accel && storage.localBlobPath(key)) {
    // nginx serves the file from its internal location: sendfile, Range, If-Range, HEAD.
    headers.set("X-Accel-Redirect", `${accel}${key}`);
    return new Response(null, { status: 200, headers });
  }

  if (noneMatch(p.headers.get("if-none-match"), etag)) return new Response(null, { status: 304, headers });
  const size = await storage.blobSize(key);
  if (size === null) throw new AppError("unavailable", `The bytes of ${image.name} version ${v.version} are missing from storage; an administrator has been told.`);
  let range = ifRangeAllows(p.headers.get("if-range"), etag) ? parseRange(p.headers.get("range"), size) : ({ kind: "full" } as const);
  if (range.kind === "unsatisfiable") {
    headers.set("Content-Range", `bytes */${size}`);
    headers.set("Content-Type", "text/plain; charset=utf-8");
    return new Response(`The range is outside the ${size} bytes of this image.\n`, { status: 416, headers });
  }
  if (range.kind === "partial" && range.start === 0 && range.end === size - 1) range = { kind: "full" };
  const start = range.kind === "partial" ? range.start : 0;
  const end = range.kind === "partial" ? range.end : size - 1;
  headers.set("Content-Length", String(size === 0 ? 0 : end - start + 1));
  headers.set(CONTENT_LENGTH_HEADER, headers.get("Content-Length")!);
  if (range.kind === "partial") headers.set("Content-Range", `bytes ${start}-${end}/${size}`);
  const status = range.kind === "partial" ? 206 : 200;
  if (p.method === "HEAD" || size === 0) return new Response(null, { status, headers });
  const file = storage.localBlobPath(key);
  if (file && isSendFileEnabled()) {
    // Kiln's web server sends the bytes (lib/images/send-file.ts): same answer, no web stream.
    headers.set(SEND_FILE_HEADER, formatSendFile({ file, start, end }));
    return new Response(null, { status, headers });
  }
  const stream = await storage.readBlob(key, { start, end });
  return new Response(Readable.toWeb(stream) as ReadableStream, { status, headers });
}

export async function serveImageBlob(db: Db, p: { caller: BlobCaller; imageId: string; ref: VersionRef; method: string; headers: Headers }): Promise<Response> {
  const { image, version } = await authorizeBlob(db, p.caller, p.imageId, p.ref);
  return blobResponse({ image, version, method: p.method, headers: p.headers, viaLatest: p.ref === "latest" });
}
