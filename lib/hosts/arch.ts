// Which machines an image version runs on. A host carries its architecture (hosts.arch, beside
// its firmware facts.firmware bios|uefi) and each image version says the one it is built for
// (image_versions.arch); every path that puts a version on a host — a deploy, an install naming
// an image, a diskless boot, a reservation that deploys at its start — refuses a mismatch here,
// before anything is written, rather than letting the machine fail to boot it.
import { getImageRow, getImageVersionRow } from "@/db/queries/images";
import type { DbOrTx } from "../db";
import { AppError } from "../errors";
import type { HostArchName } from "../validation/inventory";

const ARCH_WORDS: Record<HostArchName, string> = { x86_64: "x86-64", arm64: "arm64" };

/** For people: "x86-64", "arm64". */
export function archLabel(arch: HostArchName): string {
  return ARCH_WORDS[arch];
}

/** What iPXE's `${buildarch}` (or a DHCP client architecture word) means here; null when it does not say. */
export function archOfBuildArch(raw: string | null | undefined): HostArchName | null {
  const a = raw?.trim().toLowerCase();
  if (!a) return null;
  if (a === "x86_64" || a === "i386" || a === "amd64" || a === "x86-64") return "x86_64";
  if (a === "arm64" || a === "aarch64") return "arm64";
  return null;
}

/**
 * The refusal for putting a version on a host of another architecture, or null when it fits:
 * "lab-pi-03 is arm64; Debian 12 (cloud image) v2 is for x86-64".
 */
export function archMismatch(host: { name: string; arch: HostArchName }, image: { name: string }, version: { version: number; arch: HostArchName }): string | null {
  if (host.arch === version.arch) return null;
  return `${host.name} is ${archLabel(host.arch)}; ${image.name} v${version.version} is for ${archLabel(version.arch)}. Choose a version built for ${archLabel(host.arch)} (or correct the host's or the version's architecture); nothing was started.`;
}

/** Throws a 400 on `field` when the version does not fit the host; a version that does not exist is the caller's to refuse. */
export async function assertVersionFitsHost(
  db: DbOrTx,
  host: { name: string; arch: HostArchName },
  ref: { imageId: string; version: number },
  field = "imageVersion",
): Promise<void> {
  const [image, version] = await Promise.all([getImageRow(db, ref.imageId), getImageVersionRow(db, ref)]);
  if (!image || !version) return;
  const why = archMismatch(host, image, version);
  if (why) throw AppError.field(field, why);
}
