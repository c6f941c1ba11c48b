// A version's bytes for machines, on plain node:http (the boot server): GET|HEAD
// /images/<id>/versions/<v>/blob?token=… from the deploy ramdisk. The decision — who may read,
// status, Range, If-Range, ETag, every header — is blob.ts's, shared with the people's route
// in Next; only the sending differs. Node has no sendfile(2): every byte is read into user
// space and written to the socket. The cheapest way found (bench/transfer.ts, bench/README.md)
// is a read loop over one FileHandle into two reused buffers: the next read runs while the
// previous buffer is being written, nothing is allocated per chunk, and a slow client holds
// the loop (backpressure) rather than queueing the file in memory. With S3 storage the
// machine is redirected to a short-lived presigned URL and the bucket sends the bytes.
import fs from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Db } from "../db";
import type { Actor } from "../access/actor";
import { AppError, isAppError, toErrorBody } from "../errors";
import { getLogger } from "../log";
import { uuidSchema } from "../validation/common";
import { versionParamSchema, type VersionRef } from "../validation/images";
import { IMAGE_NOT_FOUND } from "./images";
import { authorizeBlob, downloadName, planBlobAnswer, type BlobCaller } from "./blob";
import { getImageStorage, type ImageStorage } from "./storage";

/** Bytes per read: two of these per download in flight, so a rack of 100 holds 200 MiB at most. */
export const NODE_BLOB_CHUNK = 1024 * 1024;

/**
 * Long enough for the machine to connect, short enough that a leaked URL is soon useless. A
 * resuming agent asks Kiln again and gets a fresh one (its token is checked each time).
 */
export const PRESIGNED_BLOB_SECONDS = 300;

/** `ref` is the path's version segment as sent (a number or `latest`); anything else is a 404. */
export type BlobNodeParams = { imageId: string; ref: string; token: string | null; actor?: Actor };

/**
 * Answers one GET or HEAD of a blob on a node:http response. The caller is a deployment's
 * token (`?token=`), or an actor the server has already resolved; neither is 404 alike with
 * "no such version". Errors before the first byte are Kiln's JSON error body; a read error
 * after it cuts the connection, so the client sees a short body and resumes with a Range.
 */
export async function serveBlobNode(db: Db, req: IncomingMessage, res: ServerResponse, p: BlobNodeParams, storage: ImageStorage = getImageStorage()): Promise<void> {
  try {
    const caller: BlobCaller | null = p.token !== null ? { kind: "deployment-token", token: p.token } : p.actor ? { kind: "actor", actor: p.actor } : null;
    if (!caller) {
      sendError(res, { status: 401, body: { error: { code: "unauthorized", message: "This download needs the deployment's token (?token=…)." } } });
      return;
    }
    const parsed = versionParamSchema.safeParse(p.ref);
    if (!parsed.success || !uuidSchema.safeParse(p.imageId).success) throw new AppError("not_found", IMAGE_NOT_FOUND);
    const ref: VersionRef = parsed.data;
    const { image, version } = await authorizeBlob(db, caller, p.imageId, ref);
    const method = req.method === "HEAD" ? "HEAD" : "GET";
    if (storage.kind === "s3" && method === "GET") {
      const url = await storage.presignBlob(version.storageKey!, { expiresInSeconds: PRESIGNED_BLOB_SECONDS, filename: downloadName(image, version) });
      if (url) {
        // 307 keeps the method; the bucket honours the Range and If-Range the client sends again.
        res.writeHead(307, { Location: url, "Cache-Control": "no-store", "Content-Length": "0" });
        res.end();
        return;
      }
    }
    const header = (name: string) => {
      const v = req.headers[name];
      return v === undefined ? null : Array.isArray(v) ? v.join(", ") : v;
    };
    const answer = await planBlobAnswer({ image, version, method, header, viaLatest: ref === "latest" }, storage);
    if (answer.text !== undefined) {
      res.writeHead(answer.status, { ...answer.headers, "Content-Length": String(Buffer.byteLength(answer.text)) });
      res.end(answer.text);
      return;
    }
    if (!answer.bytes) {
      res.writeHead(answer.status, answer.headers);
      res.end();
      return;
    }
    const file = storage.localBlobPath(answer.bytes.key);
    if (!file) {
      // An S3 HEAD, or a backend without local files: Kiln streams the range itself.
      const body = await storage.readBlob(answer.bytes.key, { start: answer.bytes.start, end: answer.bytes.end });
      res.writeHead(answer.status, answer.headers);
      res.once("close", () => body.destroy());
      body.once("error", () => res.destroy());
      body.pipe(res);
      return;
    }
    let handle: fs.promises.FileHandle;
    try {
      handle = await fs.promises.open(file, "r");
    } catch {
      sendError(res, { status: 503, body: { error: { code: "unavailable", message: "The image's bytes are not available right now; try again." } } });
      return;
    }
    res.writeHead(answer.status, answer.headers);
    await sendFileRange(res, handle, answer.bytes.start, answer.bytes.end);
  } catch (e) {
    if (!isAppError(e)) getLogger("blob").error({ err: e, imageId: p.imageId, ref: p.ref }, "blob download failed");
    if (res.headersSent) res.destroy();
    else sendError(res, toErrorBody(e));
  }
}

function sendError(res: ServerResponse, e: { status: number; body: unknown }): void {
  const text = JSON.stringify(e.body);
  res.writeHead(e.status, { "Content-Type": "application/json", "Content-Length": String(Buffer.byteLength(text)), "Cache-Control": "no-store" });
  res.end(text);
}

/**
 * Writes bytes start..end (inclusive) of an open file to the response and closes the file,
 * whatever happens. Two buffers alternate: while one is on its way to the socket the other is
 * being filled, and a buffer is refilled only once its write has completed (Node keeps a
 * reference to a written buffer until then). A client that goes away ends the loop at the
 * next write, and the file is closed.
 */
export async function sendFileRange(res: ServerResponse, handle: fs.promises.FileHandle, start: number, end: number, chunk = NODE_BLOB_CHUNK): Promise<void> {
  const buffers = [Buffer.allocUnsafe(chunk), Buffer.allocUnsafe(chunk)];
  const inFlight: (Promise<void> | null)[] = [null, null];
  // A write to a socket that was torn down may never call back: waits end on close as well.
  let closed = false;
  let onClose!: () => void;
  const gone = new Promise<void>((resolve) => {
    onClose = () => {
      closed = true;
      resolve();
    };
  });
  res.once("close", onClose);
  const settled = (w: Promise<void> | null) => (w ? Promise.race([w, gone]) : undefined);
  try {
    let pos = start;
    for (let i = 0; pos <= end && !closed; i ^= 1) {
      await settled(inFlight[i]!);
      if (closed) break;
      const buf = buffers[i]!;
      const { bytesRead } = await handle.read(buf, 0, Math.min(chunk, end - pos + 1), pos);
      // The file shrank under us: the promised Content-Length cannot be met.
      if (bytesRead === 0) throw new Error(`file ended at byte ${pos}, before ${end + 1}`);
      pos += bytesRead;
      const write = new Promise<void>((resolve, reject) => {
        res.write(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead), (err) => (err ? reject(err) : resolve()));
      });
      // Awaited on the buffer's next turn or below; until then a failure must not count as unhandled.
      write.catch(() => {});
      inFlight[i] = write;
    }
    await Promise.all(inFlight.map(settled));
    if (!closed) res.end();
  } catch {
    res.destroy();
  } finally {
    res.off("close", onClose);
    await handle.close().catch(() => {});
  }
}
