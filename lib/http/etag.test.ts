import { describe, expect, it } from "vitest";
import { etagOf, isNotModified, textWithEtag } from "./etag";

describe("textWithEtag", () => {
  it("answers 200 with the text and its ETag, then 304 for the same ETag", async () => {
    const first = textWithEtag(new Request("http://x/"), "hello\n");
    expect(first.status).toBe(200);
    expect(first.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(await first.text()).toBe("hello\n");
    const etag = first.headers.get("etag")!;
    expect(etag).toBe(etagOf("hello\n"));
    const again = textWithEtag(new Request("http://x/", { headers: { "if-none-match": `"other", W/${etag}` } }), "hello\n");
    expect(again.status).toBe(304);
    expect(again.headers.get("etag")).toBe(etag);
    expect(await again.text()).toBe("");
    expect(textWithEtag(new Request("http://x/", { headers: { "if-none-match": etag } }), "changed\n").status).toBe(200);
  });

  it("matches * and nothing without the header", () => {
    expect(isNotModified(new Headers({ "if-none-match": "*" }), '"a"')).toBe(true);
    expect(isNotModified(new Headers(), '"a"')).toBe(false);
  });
});
