import { describe, expect, it } from "vitest";
import { isEmailDomainAllowed } from "./register";

describe("isEmailDomainAllowed", () => {
  it("allows every address when the list is empty", () => {
    expect(isEmailDomainAllowed("anyone@anywhere.test", [])).toBe(true);
  });

  it("allows the listed domains and their subdomains", () => {
    const allowed = ["lab.example", "uni.test"];
    expect(isEmailDomainAllowed("a@lab.example", allowed)).toBe(true);
    expect(isEmailDomainAllowed("a@cs.lab.example", allowed)).toBe(true);
    expect(isEmailDomainAllowed("a@uni.test", allowed)).toBe(true);
  });

  it("compares the domain case-insensitively (the list is lower-cased by lib/env)", () => {
    expect(isEmailDomainAllowed("A@Lab.EXAMPLE", ["lab.example"])).toBe(true);
  });

  it("refuses look-alikes: suffixes that are not subdomains, and the domain inside the local part", () => {
    const allowed = ["lab.example"];
    expect(isEmailDomainAllowed("a@evillab.example", allowed)).toBe(false);
    expect(isEmailDomainAllowed("a@lab.example.evil.test", allowed)).toBe(false);
    expect(isEmailDomainAllowed("lab.example@evil.test", allowed)).toBe(false);
    expect(isEmailDomainAllowed('"a@lab.example"@evil.test', allowed)).toBe(false);
  });
});
