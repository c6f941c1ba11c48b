// The post-install runner as templates render it: every built-in that supports it carries the
// runner, the holder's values reach the shell only quoted (hostile ones come back byte for byte
// and run nothing), and the token appears only where the boot route can put the real one in.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { checkRendered } from "./checks";
import { buildBootContext } from "./context";
import { POST_INSTALL_MARKER, POST_INSTALL_PATHS, postInstallContext, postInstallRunner, type PostInstall } from "./post-install";
import { renderTemplate } from "./template";
import { BUILTIN_TEMPLATES, readBuiltinSource } from "./templates";
import { underRoot } from "@/test/harness/git-http";

const TOKEN = "tok123tok123tok123tok123";
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-pi-unit-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const ctx = (postInstall: PostInstall | null) =>
  buildBootContext({
    baseUrl: "http://kiln.lab.example:3000",
    host: { name: "node-07", macs: ["52:54:00:12:34:56"], interface: { mac: "52:54:00:12:34:56", name: "eno1" }, facts: {}, cpuCores: 2, memoryMb: 2048, disks: [] },
    hostVars: {},
    leaseVars: {},
    user: { name: "Rita", email: "rita@lab.example", sshKeys: ["ssh-ed25519 AAAAC3Nza rita@laptop"] },
    image: null,
    deployment: { id: "9c1d", action: "install", token: TOKEN, postInstall },
  });

const SAFE: PostInstall = { gitUrl: "https://git.lab.example/infra/setup.git", ref: "v1.2", path: "roles/site.yml", kind: "ansible-playbook" };
// Values the API would refuse, handed to boot/ directly: quoting alone must hold.
const PWNED = path.join(tmp, "pwned");
const HOSTILE: PostInstall = {
  gitUrl: `https://x/'; touch ${PWNED}; echo '$(touch ${PWNED})\`touch ${PWNED}\``,
  ref: `main'"; touch ${PWNED} #\n$(touch ${PWNED})`,
  path: `a b/'"$HOME;|&<>*?[]{}\\\n\ttouch ${PWNED}`,
  kind: "script",
};

const render = (key: string, p: PostInstall | null) => renderTemplate(readBuiltinSource(BUILTIN_TEMPLATES.find((t) => t.key === key)!), ctx(p));

/** The runner's header run by the host's sh: what the shell sees in each variable. */
function shellValues(runner: string): string[] {
  // The assignments may span lines (a quoted newline): everything up to the fixed body.
  const head = runner.slice(0, runner.indexOf(': "${KILN_STATE_DIR'));
  const out = execFileSync("sh", ["-c", `${head}\nprintf '%s\\0' "$KILN_GIT_URL" "$KILN_GIT_REF" "$KILN_PATH" "$KILN_KIND"`], { encoding: "utf8" });
  return out.split("\0").slice(0, 4);
}

describe("post-install runner", () => {
  it("is valid POSIX sh (dash -n) and holds the values exactly as given", () => {
    for (const p of [SAFE, HOSTILE]) {
      const runner = postInstallRunner(p, "9c1d");
      execFileSync("sh", ["-n"], { input: runner });
      expect(shellValues(runner)).toEqual([p.gitUrl, p.ref, p.path, p.kind]);
    }
    expect(fs.existsSync(PWNED)).toBe(false);
  });

  it("holds no token: the report URL is in the env file only", () => {
    const c = postInstallContext(SAFE, `http://kiln/boot/52-54-00-12-34-56/${TOKEN}`, "9c1d")!;
    expect(c.runner).not.toContain(TOKEN);
    expect(c.env).toBe(`KILN_RUN_URL='http://kiln/boot/52-54-00-12-34-56/${TOKEN}'\n`);
    expect(c.write_command).toContain(TOKEN);
    // One line, so a preseed late_command can carry it.
    expect(c.write_command).not.toContain("\n");
    expect(c.firstboot_command).not.toContain("\n");
  });

  it("write_command and firstboot_command write the runner, the env file and an enabled unit", () => {
    const root = path.join(tmp, "root");
    const c = postInstallContext(HOSTILE, `http://kiln/boot/m/${TOKEN}`, "9c1d")!;
    // The same command under a test root.
    const cmd = underRoot(c.firstboot_command, root);
    execFileSync("sh", ["-c", cmd]);
    expect(fs.readFileSync(root + POST_INSTALL_PATHS.runner, "utf8")).toBe(c.runner);
    expect(fs.statSync(root + POST_INSTALL_PATHS.runner).mode & 0o777).toBe(0o755);
    expect(fs.readFileSync(root + POST_INSTALL_PATHS.env, "utf8")).toBe(c.env);
    expect(fs.statSync(root + POST_INSTALL_PATHS.env).mode & 0o077).toBe(0);
    expect(fs.readFileSync(root + POST_INSTALL_PATHS.unit, "utf8")).toContain(`ExecStart=/bin/sh ${POST_INSTALL_PATHS.runner}`);
    expect(fs.readlinkSync(`${root}/etc/systemd/system/multi-user.target.wants/kiln-post-install.service`)).toBe("../kiln-post-install.service");
    expect(fs.existsSync(PWNED)).toBe(false);
  });
});

describe("built-in templates with post-install", () => {
  it("render nothing of it when the run has none", () => {
    for (const key of ["cloud-init-basic", "ubuntu-2404-cloud-init", "rocky-9-ks", "debian-12-preseed"]) expect(render(key, null)).not.toContain(POST_INSTALL_MARKER);
  });

  it("cloud-init basics: runcmd writes and runs the runner before the done call, as valid cloud-config", () => {
    for (const p of [SAFE, HOSTILE]) {
      const out = render("cloud-init-basic", p);
      expect(checkRendered("cloud-init", out)).toEqual([]);
      const doc = parseYaml(out) as { runcmd: string[][] };
      const c = postInstallContext(p, `http://kiln.lab.example:3000/boot/52-54-00-12-34-56/${TOKEN}`, "9c1d")!;
      expect(doc.runcmd[0]).toEqual(["sh", "-c", `${c.write_command} && ${c.run_command}`]);
      expect(doc.runcmd[1]!.join(" ")).toContain("/done");
    }
  });

  it("Ubuntu autoinstall: the installed system's user-data runs it", () => {
    const out = render("ubuntu-2404-cloud-init", SAFE);
    expect(checkRendered("cloud-init", out)).toEqual([]);
    const doc = parseYaml(out) as { autoinstall: { "user-data": { runcmd: string[][] } } };
    expect(doc.autoinstall["user-data"].runcmd[0]![2]).toContain(POST_INSTALL_PATHS.runner);
  });

  it("Debian preseed: the late command hands in-target exactly the first-boot command, and installs git", () => {
    for (const p of [SAFE, HOSTILE]) {
      const out = render("debian-12-preseed", p);
      expect(checkRendered("preseed", out)).toEqual([]);
      expect(out).toMatch(/^d-i pkgsel\/include string openssh-server curl git /m);
      // The late command as debconf joins it, run by sh with the installer's commands stubbed.
      const late = out.slice(out.indexOf("d-i preseed/late_command string ") + "d-i preseed/late_command string ".length).replace(/\\\n/g, " ").split("\n")[0]!;
      const got = path.join(tmp, "in-target-arg");
      fs.rmSync(got, { force: true });
      const bin = path.join(tmp, "d-i-bin");
      fs.mkdirSync(bin, { recursive: true });
      fs.writeFileSync(path.join(bin, "in-target"), `#!/bin/sh\nif [ "$1" = sh ] && [ "$2" = -c ]; then printf '%s' "$3" > ${got}; fi\n`, { mode: 0o755 });
      for (const stub of ["wget", "chmod", "ip"]) fs.writeFileSync(path.join(bin, stub), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
      execFileSync("sh", ["-c", late], { stdio: "ignore", cwd: tmp, env: { PATH: `${bin}:/usr/bin:/bin` } as unknown as NodeJS.ProcessEnv });
      const c = postInstallContext(p, `http://kiln.lab.example:3000/boot/52-54-00-12-34-56/${TOKEN}`, "9c1d")!;
      expect(fs.readFileSync(got, "utf8")).toBe(c.firstboot_command);
    }
    expect(render("debian-12-preseed", { ...SAFE, kind: "ansible-playbook" })).toMatch(/curl git ansible-core /);
    expect(fs.existsSync(PWNED)).toBe(false);
  });

  it("Rocky kickstart: %post installs the first-boot unit (the installer is not the booted system)", () => {
    const out = render("rocky-9-ks", HOSTILE);
    expect(checkRendered("kickstart", out)).toEqual([]);
    const post = out.slice(out.indexOf("%post"));
    const c = postInstallContext(HOSTILE, `http://kiln.lab.example:3000/boot/52-54-00-12-34-56/${TOKEN}`, "9c1d")!;
    expect(post).toContain(`\n${c.firstboot_command}\n`);
    // The whole %post parses as sh: no value broke out of its quotes.
    execFileSync("sh", ["-n"], { input: post.split("\n").filter((l) => !l.startsWith("%")).join("\n") });
  });
});
