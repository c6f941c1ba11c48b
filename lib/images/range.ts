// HTTP Range for blob delivery (RFC 9110 §14). One range per request: that is what
// resuming downloaders (curl -C, wget -c, the deploy ramdisk) send. A multi-range request
// is answered with the whole body, which the RFC allows.

export type RangeResult =
  | { kind: "full" }
  | { kind: "partial"; start: number; end: number }
  | { kind: "unsatisfiable" };

/** Parses a Range header against a body of `size` bytes; a malformed header is ignored (full body). */
export function parseRange(header: string | null, size: number): RangeResult {
  if (!header) return { kind: "full" };
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m) return { kind: "full" };
  const [, a, b] = m as unknown as [string, string, string];
  if (a === "" && b === "") return { kind: "full" };
  if (a === "") {
    // Suffix: the last N bytes.
    const n = Number(b);
    if (!Number.isSafeInteger(n)) return { kind: "full" };
    if (n === 0 || size === 0) return { kind: "unsatisfiable" };
    return { kind: "partial", start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  const end = b === "" ? size - 1 : Number(b);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end)) return { kind: "full" };
  if (start >= size) return { kind: "unsatisfiable" };
  if (end < start) return { kind: "full" };
  return { kind: "partial", start, end: Math.min(end, size - 1) };
}

/**
 * If-Range: the range applies only when the validator names the current representation.
 * Only strong ETags count (RFC 9110 §13.1.5); a date never matches, so a client holding an
 * older copy gets the whole body rather than a splice of two versions.
 */
export function ifRangeAllows(ifRange: string | null, etag: string): boolean {
  if (ifRange === null) return true;
  const v = ifRange.trim();
  return !v.startsWith("W/") && v === etag;
}

/** If-None-Match: `*` or any listed tag equal to ours (weak comparison). */
export function noneMatch(header: string | null, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === "*") return true;
  const bare = etag.replace(/^W\//, "");
  return header.split(",").some((t) => t.trim().replace(/^W\//, "") === bare);
}
