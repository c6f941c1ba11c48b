import { describe, expect, it } from "vitest";
import { checkRendered, checkIpxe } from "../checks";
import { buildBootContext } from "../context";
import { chainScript, errorScript, localBootScript } from "../scripts";
import { renderTemplate } from "../template";
import { BUILTIN_TEMPLATES, readBuiltinSource } from "./index";

const base = {
  baseUrl: "http://kiln.lab.example:3000",
  host: {
    name: "node-07",
    macs: ["52:54:00:12:34:56", "52:54:00:12:34:57"],
    interface: { mac: "52:54:00:12:34:56", name: "eno1" },
    facts: { vendor: "QEMU" },
    cpuCores: 8,
    memoryMb: 16384,
    disks: [{ name: "sda", sizeBytes: 1e12 }],
  },
  hostVars: { disk: "sda" },
  leaseVars: { packages: ["htop", "git"], timezone: "Europe/Amsterdam" },
  user: { name: "Rita O'Neil", email: "rita@lab.example", sshKeys: ["ssh-ed25519 AAAAC3Nza rita@laptop", "ssh-rsa AAAAB3Nza rita@desk"] },
  image: { name: "ubuntu-gpu", version: 3, url: "http://kiln/images/1/versions/3/blob", sha256: "ab".repeat(32), format: "raw", sizeBytes: 1e9 },
  deployment: { id: "9c1d", action: "install", token: "tok123tok123tok123tok123" },
};

describe("built-in templates", () => {
  it.each(BUILTIN_TEMPLATES.map((t) => [t.key, t] as const))("%s renders output that passes its structural check", (_key, t) => {
    const out = renderTemplate(readBuiltinSource(t), buildBootContext(base));
    expect(checkRendered(t.format, out)).toEqual([]);
    expect(out).not.toMatch(/\{\{|\{%/);
    if (t.kind === "unattended") {
      // Every unattended install phones home, so the mark clears without a human.
      expect(out).toContain(`${base.baseUrl}/boot/52-54-00-12-34-56/${base.deployment.token}/done`);
      expect(out).toContain("rita@laptop");
    }
  });

  it("renders with no lease vars and no SSH keys", () => {
    for (const t of BUILTIN_TEMPLATES) {
      const out = renderTemplate(readBuiltinSource(t), buildBootContext({ ...base, hostVars: {}, leaseVars: {}, user: { name: "", email: "x@y", sshKeys: [] } }));
      expect(checkRendered(t.format, out), t.key).toEqual([]);
    }
  });

  it("quotes hostile values instead of breaking the script", () => {
    const evil = { ...base, user: { ...base.user, sshKeys: ["ssh-ed25519 AAAA x'; rm -rf / #"] } };
    const out = renderTemplate(readBuiltinSource(BUILTIN_TEMPLATES.find((t) => t.key === "debian-12-preseed")!), buildBootContext(evil));
    expect(out).toContain(`echo 'ssh-ed25519 AAAA x'"'"'; rm -rf / #'`);
  });
});

describe("fixed scripts", () => {
  it("local boot branches on the platform and is valid iPXE", () => {
    const s = localBootScript();
    expect(s).toMatch(/^#!ipxe\n/);
    expect(s).toContain("iseq ${platform} efi && goto uefi");
    expect(s).toContain("sanboot --no-describe --drive 0x80");
    expect(checkIpxe(s)).toEqual([]);
  });

  it("the chain script tries each NIC and is valid iPXE", () => {
    const s = chainScript("http://10.0.2.2:3000");
    expect(s).toContain("chain --autofree http://10.0.2.2:3000/boot/${net0/mac:hexhyp}");
    expect(s).toContain("${net3/mac:hexhyp}");
    expect(checkIpxe(s)).toEqual([]);
  });

  it("an error script cannot inject iPXE commands", () => {
    const s = errorScript("bad\nchain http://evil ${x}");
    expect(s.split("\n").filter((l) => l.startsWith("chain"))).toEqual([]);
    expect(checkIpxe(s)).toEqual([]);
  });
});

describe("structural checks catch broken output", () => {
  it("flags non-iPXE, bad YAML, bad preseed and unclosed kickstart sections", () => {
    expect(checkRendered("ipxe", "#!ipxe\nrm -rf /\n")).toEqual(["line 2: “rm” is not an iPXE command"]);
    expect(checkRendered("ipxe", "echo hi")[0]).toMatch(/#!ipxe/);
    expect(checkRendered("cloud-init", "#cloud-config\nusers: [\n")[0]).toMatch(/YAML/);
    expect(checkRendered("preseed", "d-i foo/bar strnig x\n")[0]).toMatch(/not a debconf type/);
    expect(checkRendered("kickstart", "text\n%post\necho\n")).toContain("%post is never closed with %end");
  });
});
