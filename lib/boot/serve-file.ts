// One file from a directory Kiln fills itself (the deploy ramdisk, install media), answered to a
// machine: streamed from disk with Content-Length, ETag and single Range (iPXE fetches whole
// files; a resuming curl or wget sends Range).
import fs from "node:fs/promises";
import { Readable } from "node:stream";
import { AppError } from "../errors";
import { CONTENT_LENGTH_HEADER } from "../http/context";
import { ifRangeAllows, noneMatch, parseRange } from "../images/range";

/**
 * GET or HEAD of `filePath` (a name the caller already checked against its own list). 503 with
 * `missing` while the file does not exist, so a machine's boot log says what an administrator
 * has to do.
 */
export async function serveLocalFile(p: { filePath: string; name: string; missing: string; method: string; headers: Headers }): Promise<Response> {
  // Opened before anything is answered: a rebuild that renames a new file into place meanwhile
  // cannot change the length already sent.
  const handle = await fs.open(p.filePath, "r").catch(() => null);
  const stat = await handle?.stat();
  if (!handle || !stat?.isFile()) {
    await handle?.close();
    throw new AppError("unavailable", p.missing);
  }
  const size = stat.size;
  // Size and mtime: a rebuild renames a new file into place, which changes both.
  const etag = `"${size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
  const headers = new Headers({
    "Content-Type": "application/octet-stream",
    "Accept-Ranges": "bytes",
    ETag: etag,
    "Last-Modified": stat.mtime.toUTCString(),
    // A rebuild keeps the name: caches must ask again.
    "Cache-Control": "no-cache",
  });
  if (noneMatch(p.headers.get("if-none-match"), etag)) {
    await handle.close();
    return new Response(null, { status: 304, headers });
  }
  let range = ifRangeAllows(p.headers.get("if-range"), etag) ? parseRange(p.headers.get("range"), size) : ({ kind: "full" } as const);
  if (range.kind === "unsatisfiable") {
    headers.set("Content-Range", `bytes */${size}`);
    headers.set("Content-Type", "text/plain; charset=utf-8");
    await handle.close();
    return new Response(`The range is outside the ${size} bytes of ${p.name}.\n`, { status: 416, headers });
  }
  if (range.kind === "partial" && range.start === 0 && range.end === size - 1) range = { kind: "full" };
  const start = range.kind === "partial" ? range.start : 0;
  const end = range.kind === "partial" ? range.end : size - 1;
  headers.set("Content-Length", String(size === 0 ? 0 : end - start + 1));
  headers.set(CONTENT_LENGTH_HEADER, headers.get("Content-Length")!);
  if (range.kind === "partial") headers.set("Content-Range", `bytes ${start}-${end}/${size}`);
  const status = range.kind === "partial" ? 206 : 200;
  if (p.method === "HEAD" || size === 0) {
    await handle.close();
    return new Response(null, { status, headers });
  }
  // The stream owns the handle from here: closed at the end, or when the machine hangs up.
  return new Response(Readable.toWeb(handle.createReadStream({ start, end })) as ReadableStream, { status, headers });
}
