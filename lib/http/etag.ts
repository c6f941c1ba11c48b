// Plain-text answers that clients poll (the VPN gateway's files): ETag + If-None-Match → 304,
// so a gateway syncing every half minute transfers and re-applies only what changed.
import { createHash } from "node:crypto";

/** A strong ETag of the bytes. */
export function etagOf(text: string): string {
  return `"${createHash("sha256").update(text).digest("base64url")}"`;
}

/** True when If-None-Match names this ETag (or `*`); weak validators compare by their opaque part. */
export function isNotModified(headers: Headers, etag: string): boolean {
  const header = headers.get("if-none-match");
  if (!header) return false;
  return header.split(",").some((tag) => {
    const t = tag.trim().replace(/^W\//, "");
    return t === "*" || t === etag;
  });
}

export function textWithEtag(req: Request, text: string, contentType = "text/plain; charset=utf-8"): Response {
  const etag = etagOf(text);
  // no-cache: a cache may keep it but must ask again each time (the ETag makes that cheap).
  const headers = { etag, "cache-control": "no-cache" };
  if (isNotModified(req.headers, etag)) return new Response(null, { status: 304, headers });
  return new Response(text, { status: 200, headers: { ...headers, "content-type": contentType } });
}
