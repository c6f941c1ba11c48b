import { describe, expect, it } from "vitest";
import { parseHostVars } from "./host-vars-parse";

describe("parseHostVars", () => {
  it("takes a JSON object (empty text is no variables)", () => {
    expect(parseHostVars('{"username": "kiln", "disks": ["/dev/sda"], "n": 2}')).toEqual({ vars: { username: "kiln", disks: ["/dev/sda"], n: 2 } });
    expect(parseHostVars("  ")).toEqual({ vars: {} });
  });

  it("says at which line and column the JSON breaks", () => {
    expect(parseHostVars('{\n  "a": 1\n  "b": 2\n}')).toEqual({ error: expect.stringMatching(/^Not valid JSON at line 3, column 3: .+\.$/) });
    expect(parseHostVars('{"a": 1,')).toEqual({ error: expect.stringMatching(/^Not valid JSON.*(ends early|line 1)/) });
  });

  it("refuses what is not an object, and names the bad variable with the route's schema message", () => {
    expect(parseHostVars("[1, 2]")).toEqual({ error: expect.stringMatching(/^Variables are a JSON object/) });
    expect(parseHostVars('"kiln"')).toEqual({ error: expect.stringMatching(/^Variables are a JSON object/) });
    const bad = parseHostVars('{"2fast": 1}');
    expect(bad).toEqual({ error: "2fast: Variable names are letters, digits and _ (not starting with a digit)" });
    expect(parseHostVars(JSON.stringify({ big: "x".repeat(70 * 1024) }))).toEqual({ error: "Vars are at most 64 KiB of JSON." });
  });
});
