import { describe, expect, it } from "vitest";
import { backoffSeconds, type BackoffRule } from "./sign-in-throttle";

describe("backoffSeconds", () => {
  const rule: BackoffRule = { free: 3, baseSeconds: 1, maxSeconds: 60, forgetSeconds: 3600 };

  it("is zero within the free failures, then doubles from the base up to the cap", () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => backoffSeconds(n, rule))).toEqual([0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60]);
  });

  it("stays at the cap for absurd counts instead of overflowing", () => {
    expect(backoffSeconds(5000, rule)).toBe(60);
    expect(backoffSeconds(Number.MAX_SAFE_INTEGER, rule)).toBe(60);
  });

  it("never waits when nothing is free-limited", () => {
    expect(backoffSeconds(1e6, { ...rule, free: Infinity })).toBe(0);
  });
});
