// What the import page sends for pasted or uploaded text: JSON when it looks like JSON, CSV otherwise.
import { describe, expect, it } from "vitest";
import { importBodyOf } from "./host-import";

describe("import body", () => {
  it("sends CSV as text", () => {
    const csv = "name,macs\nn1,52:54:00:00:00:01";
    expect(importBodyOf(csv)).toEqual({ csv });
  });

  it("sends a JSON array, or an object's hosts array, as rows", () => {
    const rows = [{ name: "n1", macs: ["52:54:00:00:00:01"] }];
    expect(importBodyOf(JSON.stringify(rows))).toEqual({ hosts: rows });
    expect(importBodyOf(`  ${JSON.stringify({ hosts: rows })}\n`)).toEqual({ hosts: rows });
  });

  it("says what is wrong with JSON that does not parse or has no hosts", () => {
    expect(() => importBodyOf('[{"name": ')).toThrow(/^This looks like JSON but does not parse: /);
    expect(() => importBodyOf('{"rows": []}')).toThrow("JSON must be an array of hosts, or an object with a hosts array.");
  });
});
