import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { AGENT_PARTS, readAgentScript } from "./agent-script";

describe("the served agent script", () => {
  it("is every part once, in order, starting with the shebang and ending with the run", async () => {
    const script = await readAgentScript();
    expect(script.startsWith("#!/bin/sh\n")).toBe(true);
    let at = 0;
    for (const part of AGENT_PARTS) {
      const text = await readFile(path.join(__dirname, part), "utf8");
      const found = script.indexOf(text, at);
      expect(found, part).toBeGreaterThanOrEqual(at);
      at = found + text.length;
    }
    expect(at).toBe(script.length);
  });

  it("parses as POSIX sh and defines each function in one part only", async () => {
    const script = await readAgentScript();
    execFileSync("sh", ["-n"], { input: script });
    const names = [...script.matchAll(/^([a-z_]+)\(\) \{/gm)].map((m) => m[1]);
    expect(names.length).toBeGreaterThan(30);
    expect(new Set(names).size).toBe(names.length);
  });
});
