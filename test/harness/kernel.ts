// The Debian kernel that tests boot in QEMU: the deploy ramdisk's own vmlinuz when one has
// been built, else the one linux-image-amd64 depends on, unpacked once into the user cache.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { getCacheDir, getProcessEnv } from "@/lib/env";

const execFileAsync = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export type TestKernel = { path: string; source: "env" | "ramdisk" | "cache" };

/**
 * Returns a bootable vmlinuz, in this order:
 * 1. `KILN_TEST_KERNEL` (a path; an error if it does not exist);
 * 2. the deploy ramdisk's `vmlinuz`, in `KILN_RAMDISK_DIR`, else `${KILN_DATA_DIR:-.kiln}/ramdisk`
 *    (where scripts/build-ramdisk.sh puts it);
 * 3. `${XDG_CACHE_HOME:-~/.cache}/kiln/kernel/<package>_<version>/vmlinuz`, taken out of the
 *    Debian package the first time (about 60 MB to download; only the vmlinuz is unpacked).
 *    The ramdisk build's downloaded package in `kiln/debs/` is reused when it is the same one.
 */
export async function ensureTestKernel(): Promise<TestKernel> {
  const fromEnv = getProcessEnv().KILN_TEST_KERNEL;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`KILN_TEST_KERNEL=${fromEnv} does not exist`);
    return { path: fromEnv, source: "env" };
  }
  const ramdiskDir = getProcessEnv().KILN_RAMDISK_DIR ?? path.join(getProcessEnv().KILN_DATA_DIR ?? ".kiln", "ramdisk");
  const ramdiskKernel = path.resolve(root, ramdiskDir, "vmlinuz");
  if (existsSync(ramdiskKernel)) return { path: ramdiskKernel, source: "ramdisk" };

  const cache = getCacheDir();
  const { name, version } = await debianKernelPackage();
  const dir = path.join(cache, "kernel", `${name}_${version}`);
  const kernel = path.join(dir, "vmlinuz");
  if (existsSync(kernel)) return { path: kernel, source: "cache" };

  await fs.mkdir(dir, { recursive: true });
  const work = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-kernel-"));
  try {
    // The same name apt-get download gives the file, and build-ramdisk.sh keeps it under.
    let deb = path.join(cache, "debs", `${name}_${version.replaceAll(":", "%3a")}_amd64.deb`);
    if (!existsSync(deb)) {
      await tool("apt-get", ["download", "-q", "-o", "APT::Sandbox::User=root", `${name}=${version}`], work);
      deb = path.join(work, (await fs.readdir(work)).find((f) => f.endsWith(".deb")) ?? "missing.deb");
    }
    // Only ./boot/vmlinuz-*, not the few hundred MB of modules beside it.
    await tool("sh", ["-c", 'dpkg-deb --fsys-tarfile "$1" | tar -x -C "$2" --wildcards "./boot/vmlinuz-*"', "sh", deb, work], work);
    const unpacked = (await fs.readdir(path.join(work, "boot"))).find((f) => f.startsWith("vmlinuz-"));
    if (!unpacked) throw new Error(`${deb} holds no /boot/vmlinuz-*`);
    // Renamed into place: test files running side by side may fetch it at the same time.
    const tmp = `${kernel}.${process.pid}.partial`;
    await fs.copyFile(path.join(work, "boot", unpacked), tmp);
    await fs.rename(tmp, kernel);
    return { path: kernel, source: "cache" };
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

/** The kernel package linux-image-amd64 depends on, at its exact version. */
async function debianKernelPackage(): Promise<{ name: string; version: string }> {
  const { stdout } = await execFileAsync("apt-cache", ["show", "--no-all-versions", "linux-image-amd64"]).catch((e: Error) => {
    throw new Error(`apt-cache cannot show linux-image-amd64 (run apt-get update as root, or set KILN_TEST_KERNEL): ${e.message}`);
  });
  const m = /^Depends:.*?\b(linux-image-\d[^\s,(]*)\s*\(=\s*([^)\s]+)\)/m.exec(stdout);
  if (!m?.[1] || !m[2]) throw new Error(`cannot read the kernel package from linux-image-amd64's Depends:\n${stdout}`);
  return { name: m[1], version: m[2] };
}

async function tool(cmd: string, args: string[], cwd: string): Promise<void> {
  try {
    await execFileAsync(cmd, args, { cwd, maxBuffer: 16 * 1024 * 1024 });
  } catch (e) {
    const err = e as { stderr?: string };
    throw new Error(`${cmd} ${args.join(" ")} failed: ${err.stderr?.trim() || String(e)}`);
  }
}
