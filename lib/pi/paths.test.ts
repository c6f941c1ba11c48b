import { describe, expect, it } from "vitest";
import { normalizePiSerial, parsePiPath } from "./paths";

describe("Pi TFTP paths", () => {
  it("reads <serial>/<file>, the serial lower-cased, subdirectories of the boot partition allowed", () => {
    expect(parsePiPath("1A2B3C4D/start4.elf")).toEqual({ ok: true, serial: "1a2b3c4d", file: "start4.elf" });
    expect(parsePiPath("1a2b3c4d/overlays/vc4-kms-v3d.dtbo")).toEqual({ ok: true, serial: "1a2b3c4d", file: "overlays/vc4-kms-v3d.dtbo" });
  });
  it("refuses traversal, absolute paths, backslashes, control bytes and over-long names", () => {
    for (const bad of ["1a2b3c4d/../../etc/passwd", "../1a2b3c4d/x", "/etc/passwd", "/1a2b3c4d/start4.elf", "1a2b3c4d/./x", "1a2b3c4d\\..\\x", "1a2b3c4d/a\u0000b", `1a2b3c4d/${"a".repeat(300)}`, "1a2b3c4d/.hidden", "1a2b3c4d//x"]) {
      expect(parsePiPath(bad), bad).toMatchObject({ ok: false, reason: "refused" });
    }
  });
  it("says not-found, without lookup, for what is not a Pi's path", () => {
    for (const other of ["bootcode.bin", "pxelinux.0", "123/start4.elf", "1a2b3c4g/start4.elf", "1a2b3c4d", "1a2b3c4d/"]) {
      expect(parsePiPath(other), other).toMatchObject({ ok: false });
    }
    expect(parsePiPath("bootcode.bin")).toMatchObject({ reason: "not-pi" });
  });
  it("normalises serials as boards print them", () => {
    expect(normalizePiSerial("10000000ABCDEF01")).toBe("abcdef01");
    expect(normalizePiSerial("0xdeadbeef")).toBe("deadbeef");
    expect(normalizePiSerial("xyz")).toBeNull();
  });
});
