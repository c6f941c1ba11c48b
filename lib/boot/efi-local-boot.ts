// /boot/efi/local-boot.efi (docs/uefi.md): the GRUB program that UEFI local boot chains, built
// from boot/efi/local-boot-grub.ts with Debian's grub-mkstandalone (package grub-efi-amd64-bin)
// and kept under ${XDG_CACHE_HOME:-~/.cache}/kiln/efi-local-boot/<input hash>.efi, as the deploy
// ramdisk is. Each process (portal, boot server) builds or finds it once and serves it from memory.
// Without grub-efi-amd64-bin nothing breaks: the file is a 503, iPXE's `chain` fails at once and
// the local-boot script falls back to `exit 1` (the firmware's own boot order, ~14 s slower).
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { GRUB_FS_LIST, GRUB_MODULES, LOCAL_BOOT_GRUB_CFG } from "@/boot/efi/local-boot-grub";
import { AppError } from "../errors";
import { getCacheDir, getProcessEnv } from "../env";
import { CONTENT_LENGTH_HEADER } from "../http/context";
import { noneMatch } from "../images/range";

const execFileAsync = promisify(execFile);

export const EFI_LOCAL_BOOT_FILE = "local-boot.efi";
/** Where it is served; the local-boot script names it relative to its own URL (<boot URL>/boot/<mac>). */
export const EFI_LOCAL_BOOT_PATH = `/boot/efi/${EFI_LOCAL_BOOT_FILE}`;
export const GRUB_EFI_MODULE_DIR = "/usr/lib/grub/x86_64-efi";
/** Bumped when the build's command line changes in a way the inputs below do not show. */
const BUILD_RECIPE = "grub-mkstandalone -O x86_64-efi v2 (own fs.lst)";

export type EfiLocalBoot =
  | { ok: true; bytes: Buffer; sha256: string; inputHash: string; cached: boolean; file: string }
  | { ok: false; reason: string };

/** The 503's text, and what the start log says, when this server has no GRUB to build with. */
export const EFI_LOCAL_BOOT_MISSING =
  "UEFI local boot without the firmware's detour is off on this Kiln server: install Debian's grub-efi-amd64-bin (scripts/ensure-deps.sh) and restart. UEFI machines told to boot their disk leave iPXE with `exit 1` meanwhile (docs/uefi.md).";

function cacheDir(): string {
  return getCacheDir("efi-local-boot");
}

async function findMkstandalone(): Promise<string | null> {
  for (const dir of (getProcessEnv().PATH ?? "").split(":").concat(["/usr/bin", "/bin"])) {
    const p = path.join(dir || ".", "grub-mkstandalone");
    if (existsSync(p)) return p;
  }
  return null;
}

/**
 * The input hash: the recipe, the embedded grub.cfg, the module list, and the bytes of GRUB's
 * kernel.img and of every module file that goes in (a GRUB upgrade changes them).
 */
async function inputHash(moduleDir: string): Promise<string> {
  const h = createHash("sha256").update(BUILD_RECIPE).update("\0").update(LOCAL_BOOT_GRUB_CFG).update("\0").update(GRUB_MODULES.join(" ")).update("\0").update(GRUB_FS_LIST);
  for (const name of ["kernel.img", "moddep.lst", ...GRUB_MODULES.map((m) => `${m}.mod`)]) {
    h.update(`\0${name}\0`).update(await fs.readFile(path.join(moduleDir, name)));
  }
  return h.digest("hex").slice(0, 32);
}

/** Builds the image (well under a second), or takes it from the cache. Never throws: a failure is a reason. */
export async function buildEfiLocalBoot(p: { moduleDir?: string; cacheDir?: string } = {}): Promise<EfiLocalBoot> {
  const moduleDir = p.moduleDir ?? GRUB_EFI_MODULE_DIR;
  const mkstandalone = await findMkstandalone();
  if (!mkstandalone || !existsSync(path.join(moduleDir, "kernel.img"))) return { ok: false, reason: EFI_LOCAL_BOOT_MISSING };
  let hash: string;
  try {
    hash = await inputHash(moduleDir);
  } catch (e) {
    return { ok: false, reason: `GRUB's EFI modules in ${moduleDir} are incomplete (${(e as Error).message}); reinstall grub-efi-amd64-bin. ${EFI_LOCAL_BOOT_MISSING}` };
  }
  const dir = p.cacheDir ?? cacheDir();
  const file = path.join(dir, `${hash}.efi`);
  const hit = await fs.readFile(file).catch(() => null);
  if (hit && hit.length > 0) return { ok: true, bytes: hit, sha256: sha256(hit), inputHash: hash, cached: true, file };

  const work = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-efi-local-boot-"));
  try {
    // GRUB's directory again with Kiln's fs.lst (grub-mkstandalone takes the lists from the
    // directory it builds from): the lists copied, the modules (19 MB) linked.
    const grubDir = path.join(work, "x86_64-efi");
    await fs.mkdir(grubDir);
    for (const e of await fs.readdir(moduleDir, { withFileTypes: true })) {
      if (!e.isFile()) continue;
      const from = path.join(moduleDir, e.name);
      const to = path.join(grubDir, e.name);
      await (e.name.endsWith(".mod") ? fs.symlink(from, to) : fs.copyFile(from, to));
    }
    await fs.writeFile(path.join(grubDir, "fs.lst"), GRUB_FS_LIST);
    const cfg = path.join(work, "grub.cfg");
    const out = path.join(work, EFI_LOCAL_BOOT_FILE);
    await fs.writeFile(cfg, LOCAL_BOOT_GRUB_CFG);
    const modules = GRUB_MODULES.join(" ");
    await execFileAsync(mkstandalone, [
      "--format=x86_64-efi",
      `--directory=${grubDir}`,
      `--output=${out}`,
      // Built into the core image, and the only modules in its memdisk: a smaller download, and
      // nothing (a network driver) that could be loaded behind the script's back.
      `--modules=${modules}`,
      `--install-modules=${modules}`,
      "--locales=",
      "--themes=",
      "--fonts=",
      `boot/grub/grub.cfg=${cfg}`,
    ]);
    const bytes = await fs.readFile(out);
    // Into the cache by rename, so a concurrent build (portal and boot server at once) never
    // serves half a file; a cache that cannot be written only costs the next start a build.
    await fs
      .mkdir(dir, { recursive: true })
      .then(async () => {
        const tmp = `${file}.${process.pid}.partial`;
        await fs.writeFile(tmp, bytes);
        await fs.rename(tmp, file);
      })
      .catch(() => {});
    return { ok: true, bytes, sha256: sha256(bytes), inputHash: hash, cached: false, file };
  } catch (e) {
    const err = e as { stderr?: string };
    return { ok: false, reason: `grub-mkstandalone failed: ${err.stderr?.trim() || (e as Error).message}. ${EFI_LOCAL_BOOT_MISSING}` };
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

function sha256(b: Buffer): string {
  return createHash("sha256").update(b).digest("hex");
}

let built: Promise<EfiLocalBoot> | null = null;

/** This process's image, built at the first call (start, or the first machine that asks). */
export function ensureEfiLocalBoot(): Promise<EfiLocalBoot> {
  built ??= buildEfiLocalBoot();
  return built;
}

/** One line for a start log: what UEFI machines told to boot their disk will get. */
export function describeEfiLocalBoot(b: EfiLocalBoot): string {
  if (!b.ok) return b.reason;
  return `UEFI local boot: ${EFI_LOCAL_BOOT_PATH} ready (${Math.round(b.bytes.length / 1024)} KiB GRUB, ${b.cached ? "from the cache" : "built"} ${b.file})`;
}

/**
 * The same script as text, for labs that keep Secure Boot on: their TFTP root holds Debian's
 * signed shim and network GRUB, which read grub/grub.cfg from it, and this is that file
 * (docs/uefi.md). Built in code, so it is there whether or not this server can build the image.
 */
export const EFI_GRUB_CFG_FILE = "grub.cfg";

/**
 * GET or HEAD of /boot/efi/<file>. No authentication, as for the ramdisk: iPXE fetches it before
 * a machine holds any credential, and it holds no secret (GRUB and a fixed grub.cfg).
 */
export async function serveEfiFile(p: { file: string; method: string; headers: Headers }): Promise<Response> {
  if (p.file === EFI_GRUB_CFG_FILE) {
    const body = p.method === "HEAD" ? null : LOCAL_BOOT_GRUB_CFG;
    return new Response(body, { status: 200, headers: { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-cache", "Content-Length": String(Buffer.byteLength(LOCAL_BOOT_GRUB_CFG)) } });
  }
  if (p.file !== EFI_LOCAL_BOOT_FILE) throw new AppError("not_found", `There is no ${p.file.slice(0, 100)} here; Kiln serves ${EFI_LOCAL_BOOT_PATH} and /boot/efi/${EFI_GRUB_CFG_FILE}.`);
  const b = await ensureEfiLocalBoot();
  if (!b.ok) throw new AppError("unavailable", b.reason);
  const etag = `"${b.sha256.slice(0, 32)}"`;
  const headers = new Headers({ "Content-Type": "application/efi", ETag: etag, "Cache-Control": "no-cache", "Content-Length": String(b.bytes.length), [CONTENT_LENGTH_HEADER]: String(b.bytes.length) });
  if (noneMatch(p.headers.get("if-none-match"), etag)) return new Response(null, { status: 304, headers });
  if (p.method === "HEAD") return new Response(null, { status: 200, headers });
  return new Response(new Uint8Array(b.bytes), { status: 200, headers });
}
