// "Debian 12 (cloud image)" for tests: a real Debian bookworm disk image with cloud-init,
// built from Debian's packages by scripts/build-cloud-image.sh (debootstrap, no loop devices)
// and cached by input hash under ${XDG_CACHE_HOME:-~/.cache}/kiln/cloud-image/, so only the
// first test on a machine pays for it (a few minutes; then well under a second). And what a
// test needs to log in to what Kiln installed: an ed25519 key pair and an ssh client call.
//
// How to use it (lib/deployments/cloud-init-deploy.int.test.ts is the whole flow):
//
//   const image = await ensureDebianCloudImage();            // in beforeAll, timeout ≥ 15 min (cold build)
//   const { imageId, version } = await importDebianCloudImage(db);   // public image, block map recorded
//   const key = await makeSshKey(dir);                         // then addSshKey(db, holder.user!.id, { publicKey: key.publicKey })
//   startDeployment(db, holder, hostId, { action: "deploy_image", imageId, unattendedTemplateId: <cloud-init template>, disk: "vda" })
//   const sshPort = await freePort();
//   startVm({ mac, kilnPort, diskPath, diskSizeMb ≥ CLOUD_IMAGE_MIN_DISK_MB, memoryMb: CLOUD_IMAGE_MEMORY_MB, sshPort, bootfile })
//     → the ramdisk writes the image and its seed; QEMU exits at the reboot (-no-reboot):
//   startVm again on the same disk (network first: Kiln answers "boot the disk"), then
//   await sshRun({ port: sshPort, keyPath: key.privateKeyPath, command: "hostname" })
//
// The image's kernel command line has console=ttyS0, so the serial log shows its boot and
// cloud-init's lines. The login user is the template's `username` var (default kiln).
// Building needs root (debootstrap, chroot) and the host packages scripts/ensure-deps.sh installs.
import { execFile, spawn } from "node:child_process";
import fs from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import type { Db } from "@/lib/db";
import { importCloudImageBuild, LAB_CLOUD_IMAGE } from "@/lab/cloud-image";

const execFileP = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, "../..");
const SCRIPT = path.join(ROOT, "scripts/build-cloud-image.sh");

export const CLOUD_IMAGE_NAME = LAB_CLOUD_IMAGE;
/** Debian with cloud-init (Python) under TCG: 512 MB boots, slowly; 1 GB leaves room. */
export const CLOUD_IMAGE_MEMORY_MB = 1024;
/** The image's disk plus room for cloud-init's growpart to grow its root into. */
export const CLOUD_IMAGE_MIN_DISK_MB = 3072;

export type CloudImageManifest = {
  inputHash: string;
  kernelRelease: string;
  rootUuid: string;
  bytes: number;
  sha256: string;
  rawBytes: number;
  filesMiB: number;
  buildSeconds: number;
  builtAt: string;
};

export type DebianCloudImage = { path: string; manifest: CloudImageManifest };

/**
 * The cached image (zstd-compressed raw disk), built first if this machine has none for the
 * script's current inputs. Concurrent callers (two test files) build once: the script locks.
 */
export async function ensureDebianCloudImage(opts: { log?: (line: string) => void } = {}): Promise<DebianCloudImage> {
  const log = opts.log ?? ((l: string) => console.info(l));
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn("bash", [SCRIPT, "--path"], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let tail = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d: Buffer) => {
      tail = (tail + d).slice(-4000);
      for (const line of d.toString().split("\n").filter(Boolean)) log(line);
    });
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve(stdout.trim().split("\n").pop()!) : reject(new Error(`build-cloud-image.sh failed (${code}):\n${tail}`))));
  });
  const manifest = JSON.parse(await fs.readFile(path.join(path.dirname(out), "manifest.json"), "utf8")) as CloudImageManifest;
  return { path: out, manifest };
}

/**
 * The public image "Debian 12 (cloud image)" with the cached file as a ready version, imported
 * as the lab imports it (lab/cloud-image.ts): no upload, block map recorded, reused when its latest
 * version is this build.
 */
export async function importDebianCloudImage(db: Db, image?: DebianCloudImage): Promise<{ imageId: string; version: number }> {
  const img = image ?? (await ensureDebianCloudImage());
  const { imageId, version } = await importCloudImageBuild(db, { file: img.path, inputHash: img.manifest.inputHash });
  return { imageId, version };
}

/** A fresh ed25519 key pair in `dir` (ssh-keygen, no passphrase). */
export async function makeSshKey(dir: string, comment = "kiln-test"): Promise<{ privateKeyPath: string; publicKey: string }> {
  const privateKeyPath = path.join(dir, "id_ed25519");
  await fs.rm(privateKeyPath, { force: true });
  await execFileP("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", privateKeyPath]);
  return { privateKeyPath, publicKey: (await fs.readFile(`${privateKeyPath}.pub`, "utf8")).trim() };
}

/** A free loopback TCP port (for QEMU's hostfwd to the guest's ssh). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export function sshArgs(p: { port: number; keyPath: string; user?: string; command: string }): string[] {
  return [
    "-i", p.keyPath,
    "-p", String(p.port),
    "-o", "StrictHostKeyChecking=no",
    "-o", "UserKnownHostsFile=/dev/null",
    "-o", "BatchMode=yes",
    "-o", "IdentitiesOnly=yes",
    "-o", "ConnectTimeout=10",
    "-o", "LogLevel=ERROR",
    `${p.user ?? "kiln"}@127.0.0.1`,
    p.command,
  ];
}

/** Runs `command` over ssh with the key, retrying while sshd is not up yet; its stdout. */
export async function sshRun(p: { port: number; keyPath: string; user?: string; command: string; timeoutMs?: number }): Promise<string> {
  const deadline = Date.now() + (p.timeoutMs ?? 60_000);
  let last = "";
  for (;;) {
    try {
      const { stdout } = await execFileP("ssh", sshArgs(p), { timeout: 30_000 });
      return stdout;
    } catch (e) {
      last = ((e as { stderr?: string }).stderr || (e as Error).message).trim();
    }
    if (Date.now() > deadline) throw new Error(`ssh ${p.user ?? "kiln"}@127.0.0.1 -p ${p.port} failed: ${last}`);
    await new Promise((r) => setTimeout(r, 2000));
  }
}
