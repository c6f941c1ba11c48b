import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { AppError } from "../errors";
import { findBadString, hasLoneSurrogate, jsonDepthExceeds, MAX_JSON_BYTES, parseJsonText, readBodyText, readLimited } from "./body";

function nested(depth: number): string {
  return "[".repeat(depth) + "]".repeat(depth);
}

function refusal(fn: () => unknown): AppError {
  try {
    fn();
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error("expected a refusal");
}

describe("JSON depth scan", () => {
  it("counts nesting of arrays and objects, not brackets inside strings", () => {
    expect(jsonDepthExceeds(nested(32), 32)).toBe(false);
    expect(jsonDepthExceeds(nested(33), 32)).toBe(true);
    expect(jsonDepthExceeds(`{"a":{"b":[1,{"c":2}]}}`, 3)).toBe(true);
    expect(jsonDepthExceeds(`{"a":{"b":[1,{"c":2}]}}`, 4)).toBe(false);
    expect(jsonDepthExceeds(JSON.stringify({ s: "[[[[[[[[[[{{{{{{{{" }), 2)).toBe(false);
    // An escaped quote does not end the string.
    expect(jsonDepthExceeds(JSON.stringify({ s: 'x\\"[[[[[[' }), 1)).toBe(false);
  });

  it("stops a body nested 100000 deep before JSON.parse, in well under a second", () => {
    const text = nested(100_000);
    const started = performance.now();
    const e = refusal(() => parseJsonText(text));
    expect(performance.now() - started).toBeLessThan(1000);
    expect(e.status).toBe(400);
    expect(e.message).toMatch(/nested more than 32 levels/);
  });
});

describe("strings that cannot be stored", () => {
  it("finds lone surrogates and leaves proper pairs alone", () => {
    expect(hasLoneSurrogate("ok 😀")).toBe(false);
    expect(hasLoneSurrogate("\ud800")).toBe(true);
    expect(hasLoneSurrogate("a\udc00b")).toBe(true);
    expect(hasLoneSurrogate("\ud83d")).toBe(true);
    expect(hasLoneSurrogate("\ud83d\ud83d\ude00")).toBe(true);
  });

  it("names the field (nested paths, array indexes, keys) where a NUL or a lone surrogate sits", () => {
    expect(findBadString({ name: "ok", hosts: [{ name: "a" }, { name: "b\u0000" }] })).toEqual({ field: "hosts.1.name", reason: expect.stringMatching(/NUL/) });
    expect(findBadString({ notes: "x\ud800" })).toEqual({ field: "notes", reason: expect.stringMatching(/surrogate/) });
    expect(findBadString({ tags: { "k\u0000": 1 } })?.field).toBe("tags.(a key)");
    expect(findBadString("\u0000")?.field).toBe("body");
    expect(findBadString({ a: 1, b: [true, null, "fine"] })).toBeNull();
  });

  it("refuses them in JSON escapes with a 400 whose details name the field", () => {
    const nul = refusal(() => parseJsonText(`{"name":"a\\u0000b"}`));
    expect(nul.status).toBe(400);
    expect(nul.message).toMatch(/^name contains a NUL byte/);
    expect(nul.details?.fieldErrors).toHaveProperty("name");
    const lone = refusal(() => parseJsonText(`{"description":"\\udead"}`));
    expect(lone.message).toMatch(/^description contains an unpaired UTF-16 surrogate/);
  });

  it("still refuses text that is not JSON, as before", () => {
    expect(refusal(() => parseJsonText("{nope")).message).toBe("The request body must be JSON.");
  });
});

describe("body limit while streaming", () => {
  it("stops reading one chunk past the limit, without reading the rest of an endless source", async () => {
    let produced = 0;
    let cancelled = false;
    const endless = new ReadableStream<Uint8Array>({
      pull(c) {
        produced += 64 * 1024;
        c.enqueue(new Uint8Array(64 * 1024));
      },
      cancel() {
        cancelled = true;
      },
    });
    expect(await readLimited(endless as unknown as AsyncIterable<Uint8Array>, 1024 * 1024)).toBeNull();
    expect(cancelled).toBe(true);
    // The stream's queue may pull a chunk or two ahead; never the whole thing.
    expect(produced).toBeLessThan(1024 * 1024 + 4 * 64 * 1024);
  });

  it("returns the bytes when they fit, exactly at the limit", async () => {
    const body = await readLimited(Readable.from([Buffer.alloc(10, 1), Buffer.alloc(6, 2)]), 16);
    expect(body?.length).toBe(16);
    expect(await readLimited(Readable.from([Buffer.alloc(17)]), 16)).toBeNull();
  });

  it("answers a chunked request body past the limit with 413, without Content-Length to go by", async () => {
    let sent = 0;
    const chunked = new ReadableStream<Uint8Array>({
      pull(c) {
        sent += 256 * 1024;
        if (sent > 256 * 1024 * 1024) c.close();
        else c.enqueue(new Uint8Array(256 * 1024));
      },
    });
    const req = new Request("http://kiln.test/api/v1/pools", { method: "POST", body: chunked, duplex: "half", headers: { "content-type": "application/json" } } as RequestInit);
    const e = await readBodyText(req, MAX_JSON_BYTES).then(() => null, (err: unknown) => err);
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).status).toBe(413);
    expect(sent).toBeLessThan(2 * MAX_JSON_BYTES);
  });

  it("refuses a declared Content-Length past the limit before reading anything", async () => {
    const req = new Request("http://kiln.test/x", { method: "POST", body: "x", headers: { "content-length": String(MAX_JSON_BYTES + 1) } });
    await expect(readBodyText(req, MAX_JSON_BYTES)).rejects.toMatchObject({ code: "payload_too_large" });
  });
});
