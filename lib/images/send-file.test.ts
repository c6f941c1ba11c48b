import { describe, expect, it } from "vitest";
import { formatSendFile, parseSendFile } from "./send-file";

describe("send-file header", () => {
  it("round-trips a range and an absolute path, spaces included", () => {
    const p = { file: "/var/lib/kiln data/images/blobs/abc/3", start: 0, end: 2147483647 };
    expect(parseSendFile(formatSendFile(p))).toEqual(p);
    expect(parseSendFile("10-10 /x")).toEqual({ file: "/x", start: 10, end: 10 });
  });

  it("refuses anything else: relative paths, reversed or missing ranges, junk", () => {
    for (const bad of ["", "0-9", "0-9 relative/path", "9-0 /x", "-1-9 /x", "a-b /x", "0-9  /x", `0-${2 ** 60} /x`]) {
      expect(parseSendFile(bad), bad).toBeNull();
    }
  });
});
