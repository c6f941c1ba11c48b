// The deploy ramdisk (docs/ramdisk.md): scripts/build-ramdisk.sh writes vmlinuz, initrd.img and
// manifest.json into the ramdisk directory (KILN_RAMDISK_DIR, default <data dir>/ramdisk), and
// machines fetch the first two from /boot/ramdisk/<file> when a run boots them into it.
import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { getProcessEnv } from "../env";
import { projectPath } from "../runtime/project-root";
import { AppError } from "../errors";
import { serveLocalFile } from "./serve-file";

/** The only names served: anything else under /boot/ramdisk/ is 404. */
export const RAMDISK_FILES = ["vmlinuz", "initrd.img"] as const;
export type RamdiskFile = (typeof RAMDISK_FILES)[number];

export const RAMDISK_MISSING =
  "The deploy ramdisk has not been built on this Kiln server, so deploys, captures and wipes cannot boot: an administrator should run `npm run ramdisk` (docs/ramdisk.md).";

const builtFileSchema = z.object({ bytes: z.number().int(), sha256: z.string() });

// What scripts/build-ramdisk.sh writes; read back here, not accepted from anyone else.
export const ramdiskManifestSchema = z.object({
  inputHash: z.string(),
  kernel: z.object({ package: z.string(), version: z.string(), release: z.string() }),
  compression: z.enum(["zstd", "gzip"]),
  files: z.object({ vmlinuz: builtFileSchema, "initrd.img": builtFileSchema.extend({ unpackedBytes: z.number().int() }) }),
  modules: z.number().int(),
  firmwareFiles: z.number().int(),
  packages: z.array(z.object({ name: z.string(), version: z.string() })),
  buildSeconds: z.number(),
  builtAt: z.string(),
});
export type RamdiskManifest = z.infer<typeof ramdiskManifestSchema>;

export function isRamdiskFile(name: string): name is RamdiskFile {
  return (RAMDISK_FILES as readonly string[]).includes(name);
}

async function exists(p: string): Promise<boolean> {
  return fs.stat(p).then(
    (s) => s.isFile(),
    () => false,
  );
}

/** The manifest of the ramdisk in `dir`, or null when there is none (or it is not the script's). */
export async function readRamdiskManifest(dir: string): Promise<RamdiskManifest | null> {
  try {
    const parsed = ramdiskManifestSchema.safeParse(JSON.parse(await fs.readFile(path.join(dir, "manifest.json"), "utf8")));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/**
 * Makes sure `dir` holds a ramdisk built from the current inputs: runs scripts/build-ramdisk.sh,
 * which answers at once when the manifest's input hash is current, copies a cached build in
 * (under a second), or builds (about a minute; the kernel package is downloaded once). Its
 * progress lines go to `log`. Resolves to the manifest; rejects with the script's last words.
 *
 * A vmlinuz and initrd.img without a manifest.json are an administrator's own (docs/ramdisk.md):
 * they are left alone and the result is null.
 */
export async function ensureRamdisk(p: { dir: string; log: (line: string) => void; script?: string }): Promise<RamdiskManifest | null> {
  const dir = path.resolve(p.dir);
  const hasFiles = (await exists(path.join(dir, "vmlinuz"))) && (await exists(path.join(dir, "initrd.img")));
  if (hasFiles && !(await exists(path.join(dir, "manifest.json")))) {
    p.log(`using the vmlinuz and initrd.img in ${dir} as they are (no manifest.json: not built by Kiln)`);
    return null;
  }
  // Resolved when called, not at import: in Next's server bundle import.meta.url is not the source tree.
  const script = p.script ?? projectPath("scripts", "build-ramdisk.sh");
  const tail: string[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn("bash", [script, dir], { stdio: ["ignore", "ignore", "pipe"], env: getProcessEnv() });
    let pending = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const raw of lines) {
        const line = raw.replace(/^build-ramdisk: /, "").trimEnd();
        if (!line) continue;
        tail.push(line);
        if (tail.length > 5) tail.shift();
        p.log(line);
      }
    });
    child.on("error", reject);
    child.on("close", (c) => resolve(c));
  });
  if (code !== 0) throw new Error(`building the deploy ramdisk failed (exit ${code}): ${tail.join(" / ") || "no output"}`);
  const manifest = await readRamdiskManifest(dir);
  if (!manifest) throw new Error(`the ramdisk build finished but ${path.join(dir, "manifest.json")} is missing or unreadable`);
  return manifest;
}

/**
 * GET or HEAD of /boot/ramdisk/<file>: streamed from disk with Content-Length, ETag and single
 * Range (iPXE fetches whole files; a resuming curl or wget sends Range). 404 for any other
 * name, 503 with RAMDISK_MISSING while the file does not exist.
 */
export async function serveRamdiskFile(p: { dir: string; file: string; method: string; headers: Headers }): Promise<Response> {
  if (!isRamdiskFile(p.file)) throw new AppError("not_found", `There is no ${p.file} in the deploy ramdisk; it serves ${RAMDISK_FILES.join(" and ")}.`);
  return serveLocalFile({ filePath: path.join(p.dir, p.file), name: p.file, missing: RAMDISK_MISSING, method: p.method, headers: p.headers });
}
