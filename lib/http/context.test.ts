import { describe, expect, it } from "vitest";
import { REQUEST_PATH_HEADER, requestedPathOf } from "./context";

const h = (v?: string) => new Headers(v === undefined ? {} : { [REQUEST_PATH_HEADER]: v });

describe("the requested page (for the sign-in redirect's ?next=)", () => {
  it("keeps the path and query of a deep link", () => {
    expect(requestedPathOf(h("/admin/hosts?state=new&page=2"))).toBe("/admin/hosts?state=new&page=2");
    expect(requestedPathOf(h("/admin/users"))).toBe("/admin/users");
  });

  it("drops Next's RSC marker from client navigations", () => {
    expect(requestedPathOf(h("/admin/audit?_rsc=1x2y&actor=a"))).toBe("/admin/audit?actor=a");
  });

  it("is null when unknown or not a path on Kiln", () => {
    expect(requestedPathOf(h())).toBeNull();
    expect(requestedPathOf(h("//evil.example/x"))).toBeNull();
    expect(requestedPathOf(h("https://evil.example/"))).toBeNull();
  });
});
