import { describe, expect, it } from "vitest";
import { ifRangeAllows, noneMatch, parseRange } from "./range";

describe("parseRange", () => {
  it("parses closed, open and suffix ranges", () => {
    expect(parseRange("bytes=0-99", 1000)).toEqual({ kind: "partial", start: 0, end: 99 });
    expect(parseRange("bytes=500-", 1000)).toEqual({ kind: "partial", start: 500, end: 999 });
    expect(parseRange("bytes=-100", 1000)).toEqual({ kind: "partial", start: 900, end: 999 });
    expect(parseRange("bytes=-5000", 1000)).toEqual({ kind: "partial", start: 0, end: 999 });
    expect(parseRange("bytes=990-5000", 1000)).toEqual({ kind: "partial", start: 990, end: 999 });
    expect(parseRange("BYTES = 1 - 2", 1000)).toEqual({ kind: "partial", start: 1, end: 2 });
  });

  it("answers unsatisfiable for ranges starting past the end", () => {
    expect(parseRange("bytes=1000-", 1000)).toEqual({ kind: "unsatisfiable" });
    expect(parseRange("bytes=2000-3000", 1000)).toEqual({ kind: "unsatisfiable" });
    expect(parseRange("bytes=-0", 1000)).toEqual({ kind: "unsatisfiable" });
    expect(parseRange("bytes=0-", 0)).toEqual({ kind: "unsatisfiable" });
  });

  it("ignores what it cannot honour: malformed, multiple, other units, reversed", () => {
    for (const h of [null, "", "bytes=", "bytes=-", "items=0-1", "bytes=0-1,5-6", "bytes=abc", "bytes=5-1", "bytes=99999999999999999999-"]) {
      expect(parseRange(h, 1000), String(h)).toEqual({ kind: "full" });
    }
  });
});

describe("validators", () => {
  const etag = '"abc"';
  it("If-Range honours the range only for the same strong ETag", () => {
    expect(ifRangeAllows(null, etag)).toBe(true);
    expect(ifRangeAllows('"abc"', etag)).toBe(true);
    expect(ifRangeAllows('"other"', etag)).toBe(false);
    expect(ifRangeAllows('W/"abc"', etag)).toBe(false);
    expect(ifRangeAllows("Sat, 21 Nov 2026 10:00:00 GMT", etag)).toBe(false);
  });

  it("If-None-Match matches any listed tag, weakly, or *", () => {
    expect(noneMatch('"x", "abc"', etag)).toBe(true);
    expect(noneMatch('W/"abc"', etag)).toBe(true);
    expect(noneMatch("*", etag)).toBe(true);
    expect(noneMatch('"x"', etag)).toBe(false);
    expect(noneMatch(null, etag)).toBe(false);
  });
});
