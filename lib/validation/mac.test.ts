import { describe, expect, it } from "vitest";
import { normalizeMac } from "./mac";

describe("normalizeMac", () => {
  it.each([
    ["52:54:00:12:34:56", "52:54:00:12:34:56"],
    ["52-54-00-12-34-56", "52:54:00:12:34:56"],
    ["525400123456", "52:54:00:12:34:56"],
    ["5254.0012.3456", "52:54:00:12:34:56"],
    [" AA:BB:CC:DD:EE:FF ", "aa:bb:cc:dd:ee:ff"],
  ])("normalises %s", (input, expected) => expect(normalizeMac(input)).toBe(expected));

  it.each(["", "52:54:00:12:34", "52:54:00:12:34:56:78", "zz:54:00:12:34:56", "52:54:00-12:34::56", "../etc/passwd"])(
    "refuses %j",
    (input) => expect(normalizeMac(input)).toBeNull(),
  );
});
