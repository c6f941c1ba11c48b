import { describe, expect, it } from "vitest";
import { archLabel, archMismatch, archOfBuildArch } from "./arch";

describe("architecture", () => {
  it("says a mismatch with both names, and nothing when it fits", () => {
    expect(archMismatch({ name: "lab-pi-03", arch: "arm64" }, { name: "Debian 12 (cloud image)" }, { version: 2, arch: "x86_64" })).toMatch(/^lab-pi-03 is arm64; Debian 12 \(cloud image\) v2 is for x86-64\. /);
    expect(archMismatch({ name: "pc", arch: "x86_64" }, { name: "Pi OS" }, { version: 1, arch: "arm64" })).toMatch(/^pc is x86-64; Pi OS v1 is for arm64\./);
    expect(archMismatch({ name: "pc", arch: "x86_64" }, { name: "Debian" }, { version: 1, arch: "x86_64" })).toBeNull();
  });
  it("reads iPXE's ${buildarch} words", () => {
    expect(archOfBuildArch("x86_64")).toBe("x86_64");
    expect(archOfBuildArch("i386")).toBe("x86_64");
    expect(archOfBuildArch("arm64")).toBe("arm64");
    expect(archOfBuildArch(" AArch64 ")).toBe("arm64");
    expect(archOfBuildArch("riscv64")).toBeNull();
    expect(archOfBuildArch("")).toBeNull();
    expect(archLabel("x86_64")).toBe("x86-64");
  });
});
