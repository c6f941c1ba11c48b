// The Debian 12 netinstall and preseed templates as Debian's own tools read them: debconf's
// parser checks every line of the rendered preseed, and the shell the installer runs checks
// its commands. Where they fetch the installer from, and what each variable changes.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { buildBootContext, type BootContextInput } from "../context";
import { renderTemplate } from "../template";
import { BUILTIN_TEMPLATES, readBuiltinSource } from "./index";

const base: BootContextInput = {
  baseUrl: "http://10.0.2.100",
  host: { name: "node-07", macs: ["52:54:00:12:34:56"], interface: { mac: "52:54:00:12:34:56", name: "eno1" }, facts: {}, cpuCores: 2, memoryMb: 1024, disks: [] },
  hostVars: {},
  leaseVars: {},
  user: { name: "Rita O'Neil", email: "rita@lab.example", sshKeys: ["ssh-ed25519 AAAAC3Nza rita@laptop"] },
  image: null,
  deployment: { id: "9c1d", action: "install", token: "tok123tok123tok123tok123" },
};

function render(key: string, vars: Record<string, unknown> = {}): string {
  const t = BUILTIN_TEMPLATES.find((b) => b.key === key)!;
  return renderTemplate(readBuiltinSource(t), buildBootContext({ ...base, leaseVars: vars }));
}

/** The value of a preseed question as debconf reads it: continuation lines joined. */
function answer(preseed: string, question: string): string | undefined {
  const joined = preseed.replace(/\\\n/g, " ");
  const line = joined.split("\n").find((l) => l.split(/\s+/)[1] === question);
  return line?.split(/\s+/).slice(3).join(" ");
}

const shell = existsSync("/bin/busybox") ? ["/bin/busybox", "sh"] : ["/bin/sh"];
function shellSyntax(command: string): string {
  const r = spawnSync(shell[0]!, [...shell.slice(1), "-n", "-c", command], { encoding: "utf8" });
  return r.status === 0 ? "ok" : r.stderr.trim();
}

describe("Debian 12 preseed", () => {
  it.each([
    ["defaults", {}],
    ["every variable", { disk: "vda", apt_proxy: "http://10.0.2.101:3142/", ntp: false, tasks: "ssh-server", packages: ["htop"], username: "rita", password_hash: "$6$salt$hash", timezone: "Europe/Amsterdam", security_host: "deb.debian.org" }],
  ])("is valid debconf input with %s (debconf-set-selections --checkonly)", (_label, vars) => {
    const out = render("debian-12-preseed", vars);
    const r = spawnSync("debconf-set-selections", ["--checkonly"], { input: out, encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("runs commands the installer's shell accepts", () => {
    for (const vars of [{}, { password_hash: "$6$x$y" }]) {
      const out = render("debian-12-preseed", vars);
      expect(shellSyntax(answer(out, "preseed/late_command")!)).toBe("ok");
    }
    expect(shellSyntax(answer(render("debian-12-preseed"), "partman/early_command")!)).toBe("ok");
  });

  it("installs on the first disk unless one is named, with GRUB on the same disk", () => {
    const first = render("debian-12-preseed");
    expect(answer(first, "partman/early_command")).toBe('debconf-set partman-auto/disk "$(list-devices disk | head -n1)"');
    expect(answer(first, "partman-auto/disk")).toBeUndefined();
    expect(answer(first, "grub-installer/bootdev")).toBe("default");
    const named = render("debian-12-preseed", { disk: "vda" });
    expect(answer(named, "partman/early_command")).toBeUndefined();
    expect(answer(named, "partman-auto/disk")).toBe("/dev/vda");
    expect(answer(named, "grub-installer/bootdev")).toBe("/dev/vda");
  });

  it("fetches packages through apt_proxy when set, and waits for NTP unless told not to", () => {
    expect(answer(render("debian-12-preseed"), "mirror/http/proxy")).toBe("");
    expect(answer(render("debian-12-preseed", { apt_proxy: "http://10.1.0.1:3142/" }), "mirror/http/proxy")).toBe("http://10.1.0.1:3142/");
    expect(answer(render("debian-12-preseed"), "clock-setup/ntp")).toBe("true");
    expect(answer(render("debian-12-preseed", { ntp: false }), "clock-setup/ntp")).toBe("false");
    expect(answer(render("debian-12-preseed", { tasks: "ssh-server" }), "tasksel/first")).toBe("ssh-server");
  });

  it("gives the key-only user passwordless sudo, and not when a password is set", () => {
    const keyOnly = render("debian-12-preseed");
    expect(answer(keyOnly, "passwd/user-password-crypted")).toBe("!");
    expect(answer(keyOnly, "preseed/late_command")).toContain("echo 'kiln ALL=(ALL) NOPASSWD:ALL' > /target/etc/sudoers.d/kiln");
    const withPassword = render("debian-12-preseed", { password_hash: "$6$x$y" });
    expect(answer(withPassword, "passwd/user-password-crypted")).toBe("$6$x$y");
    expect(withPassword).not.toContain("NOPASSWD");
  });
});

describe("Debian 12 netinstall (iPXE)", () => {
  const kernelLine = (s: string) => s.split("\n").find((l) => l.startsWith("kernel "))!;

  it("boots the installer Kiln serves, unless installer_url or mirror names another place", () => {
    expect(render("debian-12-netinstall")).toContain("set base http://10.0.2.100/boot/media/debian-12\n");
    expect(render("debian-12-netinstall", { mirror: "http://mirror.lab/debian" })).toContain(
      "set base http://mirror.lab/debian/dists/bookworm/main/installer-amd64/current/images/netboot/debian-installer/amd64\n",
    );
    expect(render("debian-12-netinstall", { installer_url: "http://files.lab/d-i" })).toContain("set base http://files.lab/d-i\n");
    const out = render("debian-12-netinstall");
    expect(kernelLine(out)).toMatch(/^kernel \$\{base\}\/linux initrd=initrd\.gz auto=true priority=critical preseed\/url=http:\/\/10\.0\.2\.100\/boot\/52-54-00-12-34-56\/tok123tok123tok123tok123\/unattended /);
    expect(out).toContain("initrd ${base}/initrd.gz\n");
  });

  it("gives kernel_args to the installer only and the console to the installed system too (after ---)", () => {
    const line = kernelLine(render("debian-12-netinstall", { kernel_args: "DEBIAN_FRONTEND=text", console: "console=ttyS0,115200" }));
    const [installerOnly, both] = line.split(" --- ");
    expect(installerOnly).toContain(" DEBIAN_FRONTEND=text");
    expect(both).toBe("console=ttyS0,115200");
  });
});
