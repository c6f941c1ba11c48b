// The boot partition files of an image version, for Raspberry Pis that boot it over TFTP: read
// out of the version's FAT partition once with mtools (mcopy reads a FAT image at an offset
// without mounting it), into <data dir>/pi-boot/<image>/<version>/, and served from there. A
// version's bytes never change (numbers are never reused), so the copy is kept until the
// version is gone. Extraction goes to a temporary directory renamed into place, so a crash
// half-way leaves no partial copy that would be served.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { createWriteStream } from "node:fs";
import { promisify } from "node:util";
import type { ImageVersionRow } from "@/db/schema";
import { getEnv, getProcessEnv } from "../env";
import { getImageStorage } from "../images/storage";
import { BOOT_PARTITION_HEAD_BYTES, findBootPartition } from "./boot-partition";

const run = promisify(execFile);

export type BootFiles = { ok: true; dir: string; files: Map<string, string> } | { ok: false; reason: string };

const inFlight = new Map<string, Promise<BootFiles>>();
const ready = new Map<string, BootFiles>();

function cacheDir(imageId: string, version: number): string {
  return path.join(getEnv().dataDir, "pi-boot", imageId, String(version));
}

/** Every regular file under `dir`, by its lower-cased relative path (FAT names are case-insensitive). */
async function indexFiles(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const entry of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    out.set(path.relative(dir, full).split(path.sep).join("/").toLowerCase(), full);
  }
  return out;
}

/** The version's boot partition files (extracted at the first call for the version, then kept). */
export function getBootFiles(v: Pick<ImageVersionRow, "imageId" | "version" | "storageKey" | "format">): Promise<BootFiles> {
  const key = `${v.imageId}/${v.version}`;
  const done = ready.get(key);
  if (done) return Promise.resolve(done);
  let p = inFlight.get(key);
  if (!p) {
    p = extract(v)
      .then((r) => {
        if (r.ok) ready.set(key, r);
        return r;
      })
      .finally(() => inFlight.delete(key));
    inFlight.set(key, p);
  }
  return p;
}

async function extract(v: Pick<ImageVersionRow, "imageId" | "version" | "storageKey" | "format">): Promise<BootFiles> {
  const dir = cacheDir(v.imageId, v.version);
  try {
    return { ok: true, dir, files: await indexFiles(dir) };
  } catch {
    // Not extracted yet.
  }
  if (!v.storageKey) return { ok: false, reason: "the version has no stored bytes" };
  if (v.format && !["raw", "raw-mbr", "raw-gpt", "unknown"].includes(v.format)) return { ok: false, reason: `a ${v.format} image is not read for Pi boot files; upload it uncompressed (raw)` };
  const storage = getImageStorage();
  let file = storage.localBlobPath(v.storageKey);
  let temp: string | null = null;
  if (!file) {
    temp = path.join(storage.tmpDir, `pi-${randomBytes(6).toString("hex")}`);
    await pipeline(await storage.readBlob(v.storageKey), createWriteStream(temp));
    file = temp;
  }
  const work = `${dir}.tmp-${randomBytes(4).toString("hex")}`;
  try {
    const fh = await fs.open(file, "r");
    const head = Buffer.alloc(BOOT_PARTITION_HEAD_BYTES);
    const { bytesRead } = await fh.read(head, 0, head.length, 0).finally(() => fh.close());
    const part = findBootPartition(head.subarray(0, bytesRead));
    if (!part.ok) return { ok: false, reason: part.reason };
    await fs.mkdir(work, { recursive: true });
    const image = `${file}@@${part.offset}`;
    // An empty FAT has nothing to copy; mdir tells a readable FAT from garbage first.
    await run("mdir", ["-i", image, "-b", "::/"], { env: { ...getProcessEnv(), MTOOLS_SKIP_CHECK: "1" } });
    await run("mcopy", ["-s", "-n", "-m", "-i", image, "::/*", work + "/"], { env: { ...getProcessEnv(), MTOOLS_SKIP_CHECK: "1" } }).catch((e: { stderr?: string }) => {
      if (!/no match/i.test(e.stderr ?? "")) throw e;
    });
    await fs.rm(dir, { recursive: true, force: true });
    await fs.rename(work, dir);
    return { ok: true, dir, files: await indexFiles(dir) };
  } catch (e) {
    return { ok: false, reason: `its boot partition could not be read: ${(e as { stderr?: string }).stderr?.trim() || (e as Error).message}` };
  } finally {
    await fs.rm(work, { recursive: true, force: true });
    if (temp) await fs.rm(temp, { force: true });
  }
}
