// The deploy ramdisk (docs/ramdisk.md): scripts/build-ramdisk.sh writes vmlinuz, initrd.img and
// manifest.json into the ramdisk directory (KILN_RAMDISK_DIR, default <data dir>/ramdisk), and
// machines fetch the first two from /boot/ramdisk/<file> when a run boots them into it.
import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { z } from "zod";
import { getProcessEnv } from "../env";
import { projectPath } from "../runtime/project-root";
import { AppError } from "../errors";
import { CONTENT_LENGTH_HEADER } from "../http/context";
import { ifRangeAllows, noneMatch, parseRange } from "../images/range";

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
  // Opened before anything is answered: a rebuild that renames a new file into place meanwhile
  // cannot change the length already sent.
  const handle = await fs.open(path.join(p.dir, p.file), "r").catch(() => null);
  const stat = await handle?.stat();
  if (!handle || !stat?.isFile()) {
    await handle?.close();
    throw new AppError("unavailable", RAMDISK_MISSING);
  }
  const size = stat.size;
  // Size and mtime: a rebuild renames a new file into place, which changes both.
  const etag = `"${size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
  const headers = new Headers({
    "Content-Type": "application/octet-stream",
    "Accept-Ranges": "bytes",
    ETag: etag,
    "Last-Modified": stat.mtime.toUTCString(),
    // A rebuild keeps the name: caches must ask again.
    "Cache-Control": "no-cache",
  });
  if (noneMatch(p.headers.get("if-none-match"), etag)) {
    await handle.close();
    return new Response(null, { status: 304, headers });
  }
  let range = ifRangeAllows(p.headers.get("if-range"), etag) ? parseRange(p.headers.get("range"), size) : ({ kind: "full" } as const);
  if (range.kind === "unsatisfiable") {
    headers.set("Content-Range", `bytes */${size}`);
    headers.set("Content-Type", "text/plain; charset=utf-8");
    await handle.close();
    return new Response(`The range is outside the ${size} bytes of ${p.file}.\n`, { status: 416, headers });
  }
  if (range.kind === "partial" && range.start === 0 && range.end === size - 1) range = { kind: "full" };
  const start = range.kind === "partial" ? range.start : 0;
  const end = range.kind === "partial" ? range.end : size - 1;
  headers.set("Content-Length", String(size === 0 ? 0 : end - start + 1));
  headers.set(CONTENT_LENGTH_HEADER, headers.get("Content-Length")!);
  if (range.kind === "partial") headers.set("Content-Range", `bytes ${start}-${end}/${size}`);
  const status = range.kind === "partial" ? 206 : 200;
  if (p.method === "HEAD" || size === 0) {
    await handle.close();
    return new Response(null, { status, headers });
  }
  // The stream owns the handle from here: closed at the end, or when the machine hangs up.
  return new Response(Readable.toWeb(handle.createReadStream({ start, end })) as ReadableStream, { status, headers });
}
