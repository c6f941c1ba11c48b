// Request bodies, read so that no input can crash or exhaust the process: bytes are counted as
// they arrive and the read stops at the limit (a chunked body has no Content-Length to check
// first); JSON nesting is measured on the text before JSON.parse builds anything; strings that
// PostgreSQL or a log line cannot hold (NUL, unpaired UTF-16 surrogates) are refused with the
// field they were found in.
import { AppError } from "../errors";

/** JSON bodies are small (uploads go through tus): 1 MiB is far above any real request. */
export const MAX_JSON_BYTES = 1024 * 1024;
/** A bulk import of hosts (POST /api/v1/hosts/import): 10,000 hosts as JSON are about 2 MiB. */
export const HOST_IMPORT_MAX_BYTES = 8 * 1024 * 1024;

/** No request Kiln understands nests deeper than a handful of levels; 32 leaves room and bounds the parse. */
export const MAX_JSON_DEPTH = 32;

export function tooLargeError(limit: number): AppError {
  return new AppError("payload_too_large", `The request body is larger than ${Math.ceil(limit / 1024)} KiB.`);
}

/**
 * Reads a stream of chunks up to `limit` bytes. Returns null as soon as one byte more
 * arrives, after cancelling the rest: memory never holds more than `limit` (plus one chunk).
 */
export async function readLimited(chunks: AsyncIterable<Uint8Array>, limit: number): Promise<Buffer | null> {
  const parts: Uint8Array[] = [];
  let total = 0;
  const it = chunks[Symbol.asyncIterator]();
  try {
    for (;;) {
      const { done, value } = await it.next();
      if (done) break;
      total += value.byteLength;
      if (total > limit) return null;
      parts.push(value);
    }
  } finally {
    // return() releases the source (a web stream's reader cancels it; a Node stream is destroyed).
    if (total > limit) await it.return?.().catch(() => undefined);
  }
  return Buffer.concat(parts, total);
}

/**
 * A Node request body up to `limit` bytes, or null once one byte more arrives. On overflow it
 * stops listening and leaves the stream paused: the caller answers, then drains it (see
 * scripts/web.ts), since destroying it would reset the socket before the answer is read.
 */
export function readNodeLimited(stream: NodeJS.ReadableStream, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let total = 0;
    const done = (value: Buffer | null, err?: Error) => {
      stream.removeListener("data", onData);
      stream.removeListener("end", onEnd);
      stream.removeListener("error", onError);
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total > limit) {
        stream.pause();
        return done(null);
      }
      parts.push(chunk);
    };
    const onEnd = () => done(Buffer.concat(parts, total));
    const onError = (e: Error) => done(null, e);
    stream.on("data", onData);
    stream.on("end", onEnd);
    stream.on("error", onError);
  });
}

/** A web Request's body as text, cut at `limit` bytes (413). Invalid UTF-8 decodes to U+FFFD. */
export async function readBodyText(req: Request, limit: number): Promise<string> {
  if (Number(req.headers.get("content-length") ?? 0) > limit) throw tooLargeError(limit);
  if (!req.body) return "";
  const bytes = await readLimited(req.body as unknown as AsyncIterable<Uint8Array>, limit);
  if (!bytes) throw tooLargeError(limit);
  return bytes.toString("utf8");
}

/**
 * The deepest nesting of arrays and objects in a JSON text, counted by one linear scan that
 * skips string contents; stops counting once past `max`. Works on any text: malformed JSON
 * is JSON.parse's to refuse.
 */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > max) return true;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) depth--;
  }
  return false;
}

/** True when a UTF-16 surrogate half stands without its partner (what String#isWellFormed tests). */
export function hasLoneSurrogate(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c >= 0xdc00) return true;
    const next = s.charCodeAt(i + 1);
    if (!(next >= 0xdc00 && next <= 0xdfff)) return true;
    i++;
  }
  return false;
}

/** Why a string cannot be stored, or null when it can. */
export function badStringReason(s: string): string | null {
  if (s.includes("\u0000")) return "contains a NUL byte (\\u0000), which Kiln cannot store";
  if (hasLoneSurrogate(s)) return "contains an unpaired UTF-16 surrogate (like \\ud800), which is not valid text";
  return null;
}

/** The first string key or value in `value` that cannot be stored, with its field path (`hosts.2.name`). */
export function findBadString(value: unknown, path: (string | number)[] = []): { field: string; reason: string } | null {
  if (typeof value === "string") {
    const reason = badStringReason(value);
    return reason ? { field: path.join(".") || "body", reason } : null;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const bad = findBadString(value[i], [...path, i]);
      if (bad) return bad;
    }
    return null;
  }
  if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      const keyReason = badStringReason(k);
      // The key itself cannot be shown as is; name where it sits and that it is a key.
      if (keyReason) return { field: [...path, "(a key)"].join("."), reason: keyReason };
      const bad = findBadString(v, [...path, k]);
      if (bad) return bad;
    }
  }
  return null;
}

/** A field that cannot be stored, as the one 400 shape (details name the field). */
export function badStringError(field: string, reason: string, label = field): AppError {
  const message = `${label} ${reason}.`;
  return new AppError("validation", message, { fieldErrors: { [field]: [message] } });
}

/** What a JSON text that passed the size limit holds: its value, or why Kiln refuses it. */
export type JsonInspection =
  | { ok: true; value: unknown }
  | { ok: false; problem: "deep" | "malformed"; message: string }
  | { ok: false; problem: "string"; message: string; field: string; reason: string };

/** Depth first (before the parse builds anything), then the parse, then the strings. */
export function inspectJsonText(text: string, maxDepth = MAX_JSON_DEPTH): JsonInspection {
  if (jsonDepthExceeds(text, maxDepth)) return { ok: false, problem: "deep", message: `The request body is nested more than ${maxDepth} levels deep.` };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, problem: "malformed", message: "The request body must be JSON." };
  }
  const bad = findBadString(value);
  if (bad) return { ok: false, problem: "string", message: `${bad.field} ${bad.reason}.`, ...bad };
  return { ok: true, value };
}

/** Parses a JSON text that passed the size limit, or throws the 400 that says why not. */
export function parseJsonText(text: string, maxDepth = MAX_JSON_DEPTH): unknown {
  const r = inspectJsonText(text, maxDepth);
  if (r.ok) return r.value;
  if (r.problem === "string") throw badStringError(r.field, r.reason);
  throw new AppError("bad_request", r.message);
}
