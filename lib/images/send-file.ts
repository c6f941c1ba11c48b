// The blob route's hand-off to Kiln's own web server (scripts/web.ts), the in-process twin of
// nginx's X-Accel-Redirect. The route decides everything — who may read, status, Range,
// ETag, every header — and, when the web server has said it can, answers with no body and
// names the file and byte range in X-Kiln-Send-File. The web server removes that header and
// copies the bytes from the file to the socket with plain Node streams (4 MiB reads), which
// is what makes the download run at close to nginx's speed: the body of a route handler is
// otherwise a web ReadableStream that Next pipes chunk by chunk through promises.
// Without the web server (route tests, any other host) the route streams the body itself.
import fs from "node:fs";
import path from "node:path";
import type { ServerResponse } from "node:http";

export const SEND_FILE_HEADER = "x-kiln-send-file";

/** Bytes per read when serving a blob: large enough that per-chunk costs vanish at disk speed. */
export const BLOB_READ_CHUNK = 4 * 1024 * 1024;

// On globalThis: scripts/web.ts and the compiled route are different module instances in one process.
const flag = globalThis as unknown as { kilnSendFileEnabled?: boolean };

/** Called by the web server before it serves anything: blob answers may hand their file over from now on. */
export function enableSendFile(): void {
  flag.kilnSendFileEnabled = true;
}

export function isSendFileEnabled(): boolean {
  return flag.kilnSendFileEnabled === true;
}

export type SendFile = { file: string; start: number; end: number };

/** The header's value: `<start>-<end> <absolute path>` (inclusive range; the path may contain spaces). */
export function formatSendFile(p: SendFile): string {
  return `${p.start}-${p.end} ${p.file}`;
}

export function parseSendFile(value: string): SendFile | null {
  const m = /^(\d+)-(\d+) (\/.+)$/.exec(value);
  if (!m) return null;
  const [start, end] = [Number(m[1]), Number(m[2])];
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) return null;
  return { file: path.normalize(m[3]!), start, end };
}

/**
 * Sends the range of the file as the response body, the status and headers being already set;
 * `end` is the response's own end (the web server has wrapped res.end to catch the hand-off).
 * The file is opened before anything is written, so a file gone since the route looked is
 * still a clean 503 rather than a truncated 200. A client that goes away stops the reads.
 */
export async function sendFileBody(res: ServerResponse, p: SendFile, end: (chunk?: string) => void): Promise<void> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(p.file, "r");
  } catch {
    for (const h of ["content-length", "content-range", "content-disposition", "etag", "last-modified", "cache-control"]) res.removeHeader(h);
    res.statusCode = 503;
    res.setHeader("content-type", "text/plain; charset=utf-8");
    res.setHeader("cache-control", "no-store");
    end("The image's bytes are not available right now; try again.\n");
    return;
  }
  // The stream owns the handle from here and closes it at the end, on error or when destroyed.
  const body = fs.createReadStream(p.file, { fd: handle, start: p.start, end: p.end, highWaterMark: BLOB_READ_CHUNK });
  await new Promise<void>((resolve) => {
    body.once("end", () => {
      end();
      resolve();
    });
    // A read error mid-file cannot be reported in a 200 any more: cut the connection, so the
    // client sees a short body against Content-Length and resumes with a Range.
    body.once("error", () => {
      res.destroy();
      resolve();
    });
    res.once("close", () => {
      body.destroy();
      resolve();
    });
    body.pipe(res, { end: false });
  });
}

/**
 * Makes this response honour a hand-off (scripts/web.ts calls it for every request): the
 * route's X-Kiln-Send-File header is taken out of the answer, and when Next ends the answer
 * without a body, the file's bytes follow. Whatever calls end meanwhile changes nothing.
 */
export function acceptSendFile(res: ServerResponse): void {
  let handoff: string | null = null;
  let sending = false;
  const setHeader = res.setHeader.bind(res);
  res.setHeader = (name, value) => {
    if (name.toLowerCase() !== SEND_FILE_HEADER) return setHeader(name, value);
    handoff = String(value);
    return res;
  };
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  res.end = ((...args: unknown[]) => {
    if (sending) return res;
    if (handoff === null) return end(...args);
    sending = true;
    const p = parseSendFile(handoff);
    if (p) {
      void sendFileBody(res, p, end);
    } else {
      res.statusCode = 500;
      for (const h of res.getHeaderNames()) res.removeHeader(h);
      end("Internal error: a malformed file hand-off.\n");
    }
    return res;
  }) as ServerResponse["end"];
}
