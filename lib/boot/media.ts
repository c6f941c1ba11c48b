// Install media Kiln serves itself (docs/install-media.md): the kernel and initrd of an OS
// installer, copied from a Debian package on the Kiln server into <media dir>/<set>/ and
// fetched by machines from /boot/media/<set>/<file>. A lab then installs Debian with nothing
// from the internet but packages, which a caching proxy can carry (apt_proxy).
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { z } from "zod";
import { AppError } from "../errors";
import { serveLocalFile } from "./serve-file";

const exec = promisify(execFile);

export type MediaSet = {
  /** What the media installs, for messages. */
  title: string;
  /** The Debian package that carries the files, and the directory they are in once it is installed. */
  package: string;
  sourceDir: string;
  /** The only names served, as they are named in the package (and on Debian's mirrors). */
  files: readonly string[];
};

// The text (not gtk) netboot images: the installer runs on a serial console as well as a screen.
export const MEDIA_SETS: Record<string, MediaSet> = {
  "debian-12": {
    title: "the Debian 12 installer (netboot)",
    package: "debian-installer-12-netboot-amd64",
    sourceDir: "/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64",
    files: ["linux", "initrd.gz"],
  },
};

/** The set named `name`, or undefined (an own key only: "constructor" is not a set). */
export function mediaSet(name: string): MediaSet | undefined {
  return Object.hasOwn(MEDIA_SETS, name) ? MEDIA_SETS[name] : undefined;
}

export function mediaMissing(set: string): string {
  const m = mediaSet(set);
  return `The install media ${set} (${m?.title ?? "unknown"}) is not on this Kiln server: an administrator should run \`npm run media -- ${set}\` (docs/install-media.md), or set the template's mirror variable to fetch it from a mirror.`;
}

const manifestSchema = z.object({
  set: z.string(),
  package: z.string(),
  version: z.string(),
  files: z.record(z.string(), z.object({ bytes: z.number().int(), sha256: z.string() })),
  copiedAt: z.string(),
});
export type MediaManifest = z.infer<typeof manifestSchema>;

export async function readMediaManifest(dir: string, set: string): Promise<MediaManifest | null> {
  try {
    const parsed = manifestSchema.safeParse(JSON.parse(await fs.readFile(path.join(dir, set, "manifest.json"), "utf8")));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** The installed version of a Debian package, or null when it is not installed (or dpkg is absent). */
async function installedVersion(pkg: string): Promise<string | null> {
  try {
    const { stdout } = await exec("dpkg-query", ["-W", "-f", "${db:Status-Status} ${Version}", pkg]);
    const [status, version] = stdout.trim().split(" ");
    return status === "installed" && version ? version : null;
  } catch {
    return null;
  }
}

function sha256Of(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash("sha256");
    createReadStream(file)
      .on("data", (d) => h.update(d))
      .on("error", reject)
      .on("end", () => resolve(h.digest("hex")));
  });
}

/**
 * Makes sure `<dir>/<set>/` holds the set's files from the installed package: answers at once
 * when the manifest names the installed version, else copies them (renamed into place, so a
 * machine mid-download keeps the file it opened). Resolves to the manifest, or null with a
 * line to `log` when the package is not installed (Kiln runs without it; the template's mirror
 * variable then fetches the installer from a mirror).
 */
export async function ensureMedia(p: { dir: string; set: string; log: (line: string) => void }): Promise<MediaManifest | null> {
  const media = mediaSet(p.set);
  if (!media) throw new Error(`unknown install media ${p.set}; known: ${Object.keys(MEDIA_SETS).join(", ")}`);
  const version = await installedVersion(media.package);
  if (!version) {
    p.log(`${p.set}: the Debian package ${media.package} is not installed, so Kiln cannot serve ${media.title} (apt-get install ${media.package}, then npm run media -- ${p.set})`);
    return null;
  }
  const target = path.join(p.dir, p.set);
  const current = await readMediaManifest(p.dir, p.set);
  if (current?.version === version && current.package === media.package) return current;
  await fs.mkdir(target, { recursive: true });
  const files: MediaManifest["files"] = {};
  for (const name of media.files) {
    const from = path.join(media.sourceDir, name);
    const tmp = path.join(target, `.${name}.tmp`);
    await fs.copyFile(from, tmp);
    files[name] = { bytes: (await fs.stat(tmp)).size, sha256: await sha256Of(tmp) };
    await fs.rename(tmp, path.join(target, name));
  }
  const manifest: MediaManifest = { set: p.set, package: media.package, version, files, copiedAt: new Date().toISOString() };
  await fs.writeFile(path.join(target, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  p.log(`${p.set}: ${media.title} ${version} copied from ${media.package} into ${target}`);
  return manifest;
}

/** GET or HEAD of /boot/media/<set>/<file>: 404 for a set or name Kiln does not serve, 503 while it is not copied. */
export async function serveMediaFile(p: { dir: string; set: string; file: string; method: string; headers: Headers }): Promise<Response> {
  const media = mediaSet(p.set);
  if (!media) throw new AppError("not_found", `There is no install media ${p.set}; Kiln serves ${Object.keys(MEDIA_SETS).join(", ")}.`);
  if (!media.files.includes(p.file)) throw new AppError("not_found", `There is no ${p.file} in the install media ${p.set}; it serves ${media.files.join(" and ")}.`);
  return serveLocalFile({ filePath: path.join(p.dir, p.set, p.file), name: p.file, missing: mediaMissing(p.set), method: p.method, headers: p.headers });
}
