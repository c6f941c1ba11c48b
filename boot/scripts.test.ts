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

/**
 * Walks an iPXE script as iPXE runs it, for the commands these scripts use: `a && b || c` left to
 * right by status, `goto`, `iseq`, `set`; every other command succeeds unless `fails` names it.
 * Returns the commands run, in order, up to the first that leaves the script (exit, or a boot
 * that succeeded).
 */
function walkIpxe(script: string, p: { platform: "efi" | "pcbios"; fails?: string[] }): string[] {
  const lines = script.split("\n").map((l) => l.trim());
  const vars: Record<string, string> = { platform: p.platform };
  const ran: string[] = [];
  const leaves = (cmd: string, ok: boolean) => cmd === "exit" || (ok && (cmd === "sanboot" || cmd === "chain"));
  for (let i = 0, steps = 0; i < lines.length && steps < 100; i++, steps++) {
    const line = lines[i]!;
    if (!line || line.startsWith("#") || line.startsWith(":")) continue;
    let ok = true;
    let jump: number | null = null;
    const tokens = line.split(/\s+(&&|\|\|)\s*/);
    for (let t = 0; t < tokens.length; t += 2) {
      const sep = t === 0 ? null : tokens[t - 1];
      const part = tokens[t]!.replace(/\$\{(\w+)\}/g, (_, v: string) => vars[v] ?? "");
      if (!part || (sep === "&&" && !ok) || (sep === "||" && ok)) continue;
      const [cmd, ...args] = part.split(/\s+/);
      ran.push(part);
      if (cmd === "iseq") ok = args[0] === args[1];
      else if (cmd === "set") (vars[args[0]!] = args.slice(1).join(" ")), (ok = true);
      else if (cmd === "goto") (jump = lines.indexOf(`:${args[0]}`)), (ok = true);
      else ok = !(p.fails ?? []).includes(cmd!);
      if (leaves(cmd!, ok)) return ran;
      if (jump !== null) break;
    }
    if (jump !== null) i = jump;
  }
  return ran;
}

describe("the local-boot answer", () => {
  it("names no host: the same bytes every time", () => {
    expect(localBootScript()).toBe(localBootScript());
    expect(localBootScript()).toContain("this machine boots from its local disk");
    expect(checkIpxe(localBootScript())).toEqual([]);
  });

  it("BIOS: boots drive 0x80 with sanboot, and exits with an error only when that fails", () => {
    const booted = walkIpxe(localBootScript(), { platform: "pcbios" });
    expect(booted.at(-1)).toBe("sanboot --no-describe --drive 0x80");
    expect(booted).toContain("echo Kiln: this machine boots from its local disk (BIOS)");
    expect(booted.filter((c) => c.startsWith("chain"))).toEqual([]);
    expect(walkIpxe(localBootScript(), { platform: "pcbios", fails: ["sanboot"] }).slice(-2)).toEqual(["sanboot --no-describe --drive 0x80", "exit 1"]);
  });

  it("UEFI: chains Kiln's GRUB program from the server the script came from, never sanboot; exit 1 (the firmware's next entry) when it does not boot", () => {
    const booted = walkIpxe(localBootScript(), { platform: "efi" });
    expect(booted).toContain("echo Kiln: this machine boots from its local disk (UEFI)");
    const chain = booted.at(-1)!;
    expect(chain).toBe("chain --autofree efi/local-boot.efi");
    // iPXE resolves a relative path against the URI of the script it runs (its cwuri), as URL does:
    // the same server, under any path prefix the boot URL has.
    const file = chain.split(" ").at(-1)!;
    expect(new URL(file, "http://10.0.2.100/boot/52-54-00-12-34-56?hostname=").href).toBe("http://10.0.2.100/boot/efi/local-boot.efi");
    expect(new URL(file, "https://boot.lab.example/kiln/boot/52-54-00-12-34-56").href).toBe("https://boot.lab.example/kiln/boot/efi/local-boot.efi");
    expect(booted.join("\n")).not.toContain("sanboot");
    const fellBack = walkIpxe(localBootScript(), { platform: "efi", fails: ["chain"] });
    expect(fellBack.slice(-2)).toEqual(["echo Kiln: no disk loader started; leaving iPXE for the firmware's next boot entry", "exit 1"]);
    // kiln_local is set before either branch: the chain script then leaves instead of trying the next NIC.
    expect(fellBack[0]).toBe("set kiln_local 1");
  });
});
