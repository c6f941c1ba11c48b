// ensureRamdisk's own decisions, with stand-in build scripts (the real build is booted in
// ramdisk.int.test.ts): an administrator's files are left alone, a failed build says why, a
// finished one hands back its manifest.
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ensureRamdisk } from "./ramdisk";

const root = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-ensure-ramdisk-"));
afterAll(() => fs.rm(root, { recursive: true, force: true }));

const MANIFEST = {
  inputHash: "0123456789abcdef0123456789abcdef",
  kernel: { package: "linux-image-6.1.0-56-amd64", version: "6.1.192-2", release: "6.1.0-56-amd64" },
  compression: "zstd",
  files: { vmlinuz: { bytes: 3, sha256: "a" }, "initrd.img": { bytes: 4, sha256: "b", unpackedBytes: 9 } },
  modules: 340,
  firmwareFiles: 0,
  packages: [{ name: "busybox-static", version: "1:1.35.0-4+deb12u1+b1" }],
  buildSeconds: 1.5,
  builtAt: "2026-01-01T00:00:00Z",
};

async function script(name: string, body: string): Promise<string> {
  const file = path.join(root, name);
  await fs.writeFile(file, `#!/usr/bin/env bash\nset -eu\n${body}\n`);
  return file;
}

async function dir(name: string): Promise<string> {
  const d = path.join(root, name);
  await fs.mkdir(d, { recursive: true });
  return d;
}

describe("ensureRamdisk", () => {
  it("runs the build script for the directory and returns the manifest it wrote, passing its lines on", async () => {
    const out = await dir("built");
    const build = await script(
      "build-ok.sh",
      `echo "build-ramdisk: building into $1" >&2\nprintf x >"$1/vmlinuz"; printf y >"$1/initrd.img"\ncat >"$1/manifest.json" <<'EOF'\n${JSON.stringify(MANIFEST)}\nEOF`,
    );
    const lines: string[] = [];
    const manifest = await ensureRamdisk({ dir: out, log: (l) => lines.push(l), script: build });
    expect(manifest).toEqual(MANIFEST);
    expect(lines).toEqual([`building into ${out}`]);
  });

  it("rejects with the script's last lines when the build fails", async () => {
    const build = await script("build-fail.sh", `echo "build-ramdisk: downloading…" >&2\necho "build-ramdisk: missing host packages: cpio — run: bash scripts/ensure-deps.sh" >&2\nexit 1`);
    await expect(ensureRamdisk({ dir: await dir("failed"), log: () => {}, script: build })).rejects.toThrow(/exit 1\): downloading… \/ missing host packages: cpio/);
  });

  it("rejects when the script succeeds without a readable manifest", async () => {
    const build = await script("build-no-manifest.sh", `printf x >"$1/vmlinuz"; printf y >"$1/initrd.img"; echo '{"inputHash": 1}' >"$1/manifest.json"`);
    await expect(ensureRamdisk({ dir: await dir("no-manifest"), log: () => {}, script: build })).rejects.toThrow(/manifest\.json is missing or unreadable/);
  });

  it("leaves an administrator's vmlinuz and initrd.img without manifest.json alone", async () => {
    const own = await dir("own");
    await fs.writeFile(path.join(own, "vmlinuz"), "my kernel");
    await fs.writeFile(path.join(own, "initrd.img"), "my initrd");
    const marker = path.join(root, "ran");
    const build = await script("build-must-not-run.sh", `touch "${marker}"`);
    const lines: string[] = [];
    expect(await ensureRamdisk({ dir: own, log: (l) => lines.push(l), script: build })).toBeNull();
    expect(lines.join("\n")).toContain("not built by Kiln");
    await expect(fs.stat(marker)).rejects.toThrow();
    expect(await fs.readFile(path.join(own, "vmlinuz"), "utf8")).toBe("my kernel");
  });
});
