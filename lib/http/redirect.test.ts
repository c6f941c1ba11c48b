import { describe, expect, it } from "vitest";
import { safeRedirectPath } from "./redirect";

const BASE = "http://localhost:3000";

describe("next after sign-in", () => {
  it("keeps paths on Kiln, with their query and fragment", () => {
    expect(safeRedirectPath("/hosts", BASE)).toBe("/hosts");
    expect(safeRedirectPath("/hosts/1?tab=log#end", BASE)).toBe("/hosts/1?tab=log#end");
    expect(safeRedirectPath(["/images", "/x"], BASE)).toBe("/images");
    expect(safeRedirectPath("/a/../templates", BASE)).toBe("/templates");
  });

  it("never leaves Kiln: other hosts, schemes, backslashes, control characters, dot tricks", () => {
    const hostile = [
      "//evil.example",
      "/\\evil.example",
      "\\\\evil.example",
      "/\t/evil.example",
      "/\n/evil.example",
      "/\r\n/evil.example",
      "\u0000/evil",
      "/%0a/evil",
      "/.//evil.example",
      "/..//evil.example",
      "https://evil.example",
      "http://localhost:3000@evil.example",
      "javascript:alert(1)",
      " javascript:alert(1)",
      "JaVaScRiPt:alert(1)",
      "data:text/html,hi",
      "evil.example",
      "",
      "/\u0085/evil",
      `/${"a".repeat(5000)}`,
    ];
    for (const n of hostile) {
      const out = safeRedirectPath(n, BASE);
      expect(out.startsWith("/") && !out.startsWith("//") && !out.includes("\\"), JSON.stringify(n)).toBe(true);
      expect(new URL(out, BASE).origin, JSON.stringify(n)).toBe(BASE);
    }
    expect(safeRedirectPath("//evil.example", BASE)).toBe("/");
    expect(safeRedirectPath("/.//evil.example", BASE)).toBe("/");
    expect(safeRedirectPath("javascript:alert(1)", BASE)).toBe("/");
  });

  it("never throws, whatever it is given", () => {
    for (const n of [undefined, null, 42, {}, [], ["//x"], "/\ud800", "/%E0%A4%A", "/%", "/?%zz"]) expect(() => safeRedirectPath(n, BASE)).not.toThrow();
    expect(safeRedirectPath(undefined, BASE)).toBe("/");
    expect(safeRedirectPath("/x", "not a base")).toBe("/");
  });
});
