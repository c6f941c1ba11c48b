import { describe, expect, it } from "vitest";
import { isConnectionError } from "./writes";

describe("isConnectionError", () => {
  it("tells an unreachable database from a refused statement, through drizzle's wrapper", () => {
    for (const code of ["ECONNREFUSED", "ECONNRESET", "CONNECTION_CLOSED", "CONNECT_TIMEOUT", "ETIMEDOUT", "57P01", "57P03", "08006", "53300"]) {
      expect(isConnectionError(Object.assign(new Error("x"), { code }))).toBe(true);
      expect(isConnectionError(Object.assign(new Error("wrapped"), { cause: Object.assign(new Error("x"), { code }) }))).toBe(true);
    }
    for (const e of [Object.assign(new Error("fk"), { code: "23503" }), Object.assign(new Error("x"), { cause: { code: "42P01" } }), new TypeError("bug"), null, "text"]) {
      expect(isConnectionError(e)).toBe(false);
    }
  });
});
