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
import type { Actor } from "../access/actor";
import { hashSecret } from "../auth/secrets";
import { getEnv } from "../env";
import { AppError } from "../errors";
import { CONTENT_LENGTH_HEADER } from "../http/context";
import type { VersionRef } from "../validation/images";
import { canReadShared } from "../access/sharing";
import { IMAGE_NOT_FOUND } from "./images";
import { ifRangeAllows, noneMatch, parseRange } from "./range";
import { formatSendFile, isSendFileEnabled, SEND_FILE_HEADER } from "./send-file";
import { getImageStorage, type ImageStorage } from "./storage";

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
  const allowed = caller.kind === "actor" ? await canReadShared(db, caller.actor, image) : await deploymentMayRead(db, caller.token, image, number, now);
  if (!allowed) throw notFound;
  const version = await getImageVersionRow(db, { imageId, version: number });
  if (!version) throw new AppError("not_found", `Version ${number} of image ${image.name} does not exist.`);
  if (version.state !== "ready" || !version.storageKey || !version.sha256) {
    throw new AppError("not_found", `Version ${number} of image ${image.name} is not ready (${version.state}${version.failureReason ? `: ${version.failureReason}` : ""}).`);
  }
  return { image, version };
}

export function downloadName(image: ImageRow, v: ImageVersionRow): string {
  const base = image.name.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^[._]+/, "").slice(0, 80) || "image";
  const ext = v.format === "iso" ? "iso" : v.format === "gzip" ? "gz" : v.format === "zstd" ? "zst" : v.format === "xz" ? "xz" : "img";
  return `${base}-v${v.version}.${ext}`;
}

/**
 * The answer to GET or HEAD of a blob the caller may read, decided once for every way Kiln
 * sends it (the Next route here, the boot server's node:http path in blob-node.ts): status,
 * headers, and which bytes follow. `bytes` is null when no body follows (HEAD, 304, an empty
 * file, nginx's X-Accel-Redirect); `text` is a short plain-text body (416).
 */
export type BlobAnswer = {
  status: number;
  headers: Record<string, string>;
  text?: string;
  bytes: { key: string; start: number; end: number } | null;
};

export type BlobRequest = { image: ImageRow; version: ImageVersionRow; method: string; header: (name: string) => string | null; viaLatest: boolean };

export async function planBlobAnswer(p: BlobRequest, storage: ImageStorage = getImageStorage()): Promise<BlobAnswer> {
  const { image, version: v } = p;
  const key = v.storageKey!;
  const etag = `"${v.sha256}"`;
  const headers: Record<string, string> = {
    "Content-Type": "application/octet-stream",
    "Accept-Ranges": "bytes",
    ETag: etag,
    "Last-Modified": (v.readyAt ?? v.createdAt).toUTCString(),
    "Content-Disposition": `attachment; filename="${downloadName(image, v)}"`,
    "X-Kiln-Image-Version": String(v.version),
    "X-Kiln-Sha256": v.sha256!,
    // A numbered version never changes; `latest` moves. Private either way: access is per caller.
    "Cache-Control": p.viaLatest ? "private, no-cache" : "private, max-age=31536000, immutable",
  };

  const accel = getEnv().KILN_ACCEL_REDIRECT_PREFIX;
  if (accel && storage.localBlobPath(key)) {
    // nginx serves the file from its internal location: sendfile, Range, If-Range, HEAD.
    headers["X-Accel-Redirect"] = `${accel}${key}`;
    return { status: 200, headers, bytes: null };
  }

  if (noneMatch(p.header("if-none-match"), etag)) return { status: 304, headers, bytes: null };
  const size = await storage.blobSize(key);
  if (size === null) throw new AppError("unavailable", `The bytes of ${image.name} version ${v.version} are missing from storage; an administrator has been told.`);
  let range = ifRangeAllows(p.header("if-range"), etag) ? parseRange(p.header("range"), size) : ({ kind: "full" } as const);
  if (range.kind === "unsatisfiable") {
    headers["Content-Range"] = `bytes */${size}`;
    headers["Content-Type"] = "text/plain; charset=utf-8";
    return { status: 416, headers, text: `The range is outside the ${size} bytes of this image.\n`, bytes: null };
  }
  if (range.kind === "partial" && range.start === 0 && range.end === size - 1) range = { kind: "full" };
  const start = range.kind === "partial" ? range.start : 0;
  const end = range.kind === "partial" ? range.end : size - 1;
  headers["Content-Length"] = String(size === 0 ? 0 : end - start + 1);
  if (range.kind === "partial") headers["Content-Range"] = `bytes ${start}-${end}/${size}`;
  const status = range.kind === "partial" ? 206 : 200;
  const bytes = p.method === "HEAD" || size === 0 ? null : { key, start, end };
  return { status, headers, bytes };
}

/** Builds the answer to GET or HEAD of a blob the caller may read (the Next route's body). */
export async function blobResponse(p: { image: ImageRow; version: ImageVersionRow; method: string; headers: Headers; viaLatest: boolean }): Promise<Response> {
  const storage = getImageStorage();
  const answer = await planBlobAnswer({ ...p, header: (name) => p.headers.get(name) }, storage);
  const headers = new Headers(answer.headers);
  if (answer.headers["Content-Length"] !== undefined) headers.set(CONTENT_LENGTH_HEADER, answer.headers["Content-Length"]);
  if (answer.text !== undefined) return new Response(answer.text, { status: answer.status, headers });
  if (!answer.bytes) return new Response(null, { status: answer.status, headers });
  const { key, start, end } = answer.bytes;
  const file = storage.localBlobPath(key);
  if (file && isSendFileEnabled()) {
    // Kiln's web server sends the bytes (lib/images/send-file.ts): same answer, no web stream.
    headers.set(SEND_FILE_HEADER, formatSendFile({ file, start, end }));
    return new Response(null, { status: answer.status, headers });
  }
  const stream = await storage.readBlob(key, { start, end });
  return new Response(Readable.toWeb(stream) as ReadableStream, { status: answer.status, headers });
}

export async function serveImageBlob(db: Db, p: { caller: BlobCaller; imageId: string; ref: VersionRef; method: string; headers: Headers }): Promise<Response> {
  const { image, version } = await authorizeBlob(db, p.caller, p.imageId, p.ref);
  return blobResponse({ image, version, method: p.method, headers: p.headers, viaLatest: p.ref === "latest" });
}
