// Diskless boot (docs/diskless.md): a held host boots an image version from its own copy-on-write
// root — a qcow2 overlay whose backing file is the version's stored bytes — exported over NBD by
// qemu-nbd (lib/exports/nbd.ts). Nothing is written to the machine's disk. The overlay file is the
// state: every network boot of the host attaches it again until reinstall (a new empty overlay) or
// release (deleted); capture turns it into a new image version.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { getImageRow, getImageVersionRow } from "@/db/queries/images";
import { getLiveDisklessRoot, listLiveDisklessRoots, updateDisklessRoot } from "@/db/queries/diskless";
import type { DisklessRootRow } from "@/db/schema";
import { isOwnerOrAdmin, SYSTEM, type Actor } from "../access/actor";
import { recordAudit } from "../audit/audit";
import { assertHostHolder } from "../access/hosts";
import type { Db } from "../db";
import { getEnv } from "../env";
import { AppError } from "../errors";
import { createOverlay, flattenOverlay, NbdExportSupervisor, type DiskFormat } from "../exports/nbd";
import { importImageVersion, type ImportedVersion } from "../images/import";
import { getImageStorage } from "../images/storage";
import { enqueueJob } from "../jobs/enqueue";
import { disklessCaptureSchema } from "../validation/diskless";
import { parseInput } from "../validation/parse";
import { getActiveLeaseOfHost } from "@/db/queries/hosts";
import { SYNC_DISKLESS_EXPORTS_JOB } from "./jobs";
import { getLogger } from "../log";

const run = promisify(execFile);

export function disklessDir(): string {
  return path.join(getEnv().dataDir, "diskless");
}

const DECOMPRESS: Record<string, string[]> = { zstd: ["zstd", "-dcq"], gzip: ["gzip", "-dc"], xz: ["xz", "-dc"] };

/**
 * The backing file of a version's overlays: its stored bytes when they are raw (or qcow2); for a
 * compressed version a raw copy, decompressed once per version into <data>/diskless/cache keyed by
 * the version's sha256 (so re-uploads of the same bytes share it) and kept while roots use it.
 */
export async function disklessBaseOf(db: Db, p: { imageId: string; version: number }): Promise<{ path: string; format: DiskFormat }> {
  const v = await getImageVersionRow(db, p);
  if (!v || v.state !== "ready" || !v.storageKey) throw AppError.field("imageVersion", `Version ${p.version} of that image is not ready.`);
  const blob = getImageStorage().localBlobPath(v.storageKey);
  if (!blob) throw new AppError("conflict", "Diskless boot needs image versions kept on this server's disk (KILN_IMAGE_STORAGE=file): qemu-nbd reads the version's file.");
  const format = v.format ?? "raw";
  if (format === "qcow2") return { path: blob, format: "qcow2" };
  if (format === "raw" || format === "raw-mbr" || format === "raw-gpt") return { path: blob, format: "raw" };
  const tool = DECOMPRESS[format];
  if (!tool || !v.sha256) throw AppError.field("imageVersion", `A ${format} image cannot be booted diskless; only disk images (raw, or compressed raw) can.`);
  const cached = path.join(disklessDir(), "cache", `${v.sha256}.raw`);
  if (await fs.stat(cached).catch(() => null)) return { path: cached, format: "raw" };
  await fs.mkdir(path.dirname(cached), { recursive: true });
  const tmp = `${cached}.${process.pid}.${randomBytes(4).toString("hex")}.partial`;
  try {
    // --sparse: zero runs stay holes, so a mostly empty disk image costs what it holds.
    await run("sh", ["-c", `${tool.join(" ")} "$1" | cp --sparse=always /dev/stdin "$2"`, "sh", blob, tmp], { maxBuffer: 1 << 20 });
    await fs.rename(tmp, cached);
  } finally {
    await fs.rm(tmp, { force: true });
  }
  return { path: cached, format: "raw" };
}

export function overlayPathOf(rootId: string): string {
  return path.join(disklessDir(), "overlays", `${rootId}-${Date.now().toString(36)}.qcow2`);
}

async function liveRootOf(db: Db, actor: Actor, hostId: string): Promise<DisklessRootRow> {
  await assertHostHolder(db, actor, hostId);
  const root = await getLiveDisklessRoot(db, hostId);
  if (!root) throw new AppError("conflict", "This host has no diskless root; boot an image diskless first.");
  return root;
}

/** GET /api/v1/hosts/{id}/diskless — the host's live root, for its holder or an admin (`{ root: null }` when none). */
export async function getDisklessRoot(db: Db, actor: Actor, hostId: string) {
  await assertHostHolder(db, actor, hostId);
  const r = await getLiveDisklessRoot(db, hostId);
  if (!r) return { root: null };
  return { root: { id: r.id, hostId: r.hostId, imageId: r.imageId, imageVersion: r.imageVersion, deploymentId: r.deploymentId, exported: r.port !== null, createdAt: r.createdAt, resetAt: r.resetAt } };
}

/** Reinstall: the root's changes are discarded — a new empty overlay of the same version. */
export async function reinstallDisklessRoot(db: Db, actor: Actor, hostId: string): Promise<DisklessRootRow> {
  const root = await liveRootOf(db, actor, hostId);
  const overlayPath = overlayPathOf(root.id);
  await createOverlay({ base: root.basePath, baseFormat: (await baseFormatOf(root.basePath)) as DiskFormat, overlay: overlayPath });
  const updated = await db.transaction(async (tx) => {
    const r = await updateDisklessRoot(tx, root.id, { overlayPath, resetAt: new Date() });
    await recordAudit(tx, actor, { action: "diskless.reinstall", targetType: "host", targetId: hostId, summary: `discarded the changes of the diskless root (image version ${root.imageVersion})`, data: { rootId: root.id } });
    return r!;
  });
  // The worker restarts the export on the new file (same name and port). Unlinked now, the old
  // file is served only until then, and the machine reboots into the new one anyway.
  await fs.rm(root.overlayPath, { force: true });
  await wakeExportSync();
  return updated;
}

async function baseFormatOf(file: string): Promise<string> {
  const { stdout } = await run("qemu-img", ["info", "--output=json", file]);
  return (JSON.parse(stdout) as { format: string }).format === "qcow2" ? "qcow2" : "raw";
}

/**
 * Capture: the overlay with its backing file, flattened to a raw disk (qemu-img convert), becomes
 * the next version of an image the actor owns — bytes equal to the base except where the machine
 * wrote. Take it with the machine off or idle: what its page cache has not flushed is not in the overlay.
 */
export async function captureDisklessRoot(db: Db, actor: Actor, hostId: string, input: unknown): Promise<ImportedVersion> {
  const p = parseInput(disklessCaptureSchema, input);
  const root = await liveRootOf(db, actor, hostId);
  const image = await getImageRow(db, p.imageId);
  if (!image || !isOwnerOrAdmin(actor, image.ownerUserId)) throw AppError.field("imageId", "Capture into an image of your own.");
  const tmp = path.join(getImageStorage().tmpDir, `diskless-capture-${randomBytes(6).toString("hex")}.raw`);
  try {
    // The export keeps running (in the worker): read beside it.
    await flattenOverlay({ overlay: root.overlayPath, output: tmp, whileExported: true });
    // The existing path for a file on this server: hashed, block-mapped, stored, ready at once.
    const v = await importImageVersion(db, SYSTEM, { imageId: image.id, file: tmp, notes: p.notes ?? `captured from the diskless root of host ${hostId} (image version ${root.imageVersion} + its changes)` });
    await recordAudit(db, actor, { action: "diskless.capture", targetType: "image", targetId: image.id, summary: `captured a diskless root into version ${v.version}`, data: { hostId, rootId: root.id, version: v.version } });
    return v;
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

/** Release: the export stops and the overlay is deleted (with the lease's end, or the holder's choice). */
export async function releaseDisklessRoot(db: Db, actor: Actor, hostId: string, opts: { checked?: boolean } = {}): Promise<void> {
  const root = opts.checked ? await getLiveDisklessRoot(db, hostId) : await liveRootOf(db, actor, hostId);
  if (!root) return;
  await db.transaction(async (tx) => {
    await updateDisklessRoot(tx, root.id, { releasedAt: new Date() });
    await recordAudit(tx, actor, { action: "diskless.release", targetType: "host", targetId: hostId, summary: `released the diskless root (image version ${root.imageVersion}); its overlay is deleted`, data: { rootId: root.id } });
  });
  // The worker stops the export at its next sync; the file is gone from now on.
  await fs.rm(root.overlayPath, { force: true });
  await wakeExportSync();
}

/** The worker's sync runs as soon as it can; its periodic run mends a lost enqueue. */
export async function wakeExportSync(): Promise<void> {
  await enqueueJob(SYNC_DISKLESS_EXPORTS_JOB, {}, { singletonKey: "sync-diskless-exports" }).catch((err) =>
    getLogger("diskless").warn({ err: err instanceof Error ? err.message : err }, "could not queue the diskless export sync; its next periodic run will do it"),
  );
}

// One supervisor per process: the worker keeps the exports (syncDisklessExports at start and
// after each change). The rows decide; a process that restarts re-creates every live export.
let supervisor: NbdExportSupervisor | null = null;
export function exportsOfProcess(): NbdExportSupervisor {
  supervisor ??= new NbdExportSupervisor({ log: (line) => getLogger("diskless").warn(line) });
  return supervisor;
}

/**
 * Makes this process (the worker) serve exactly the live roots: releases roots whose lease no
 * longer holds the host (the lease ended: overlay deleted), starts missing exports on their
 * recorded port, restarts one whose overlay changed (reinstall), stops released ones.
 */
export async function syncDisklessExports(db: Db): Promise<void> {
  const sup = exportsOfProcess();
  for (const root of await listLiveDisklessRoots(db)) {
    const lease = await getActiveLeaseOfHost(db, root.hostId);
    if (root.leaseId && lease?.leaseId !== root.leaseId) {
      await db.transaction(async (tx) => {
        await updateDisklessRoot(tx, root.id, { releasedAt: new Date() });
        await recordAudit(tx, SYSTEM, { action: "diskless.release", targetType: "host", targetId: root.hostId, summary: `released the diskless root of a lease that ended (image version ${root.imageVersion}); its overlay is deleted`, data: { rootId: root.id } });
      });
      await sup.stop(root.id);
      await fs.rm(root.overlayPath, { force: true });
    }
  }
  const live = await listLiveDisklessRoots(db);
  const keys = new Set(live.map((r) => r.id));
  for (const e of sup.list()) if (!keys.has(e.key)) await sup.stop(e.key);
  for (const root of live) {
    try {
      const exp = await sup.ensure(root.id, { file: root.overlayPath, format: "qcow2", bindAddress: root.bindAddress, port: root.port ?? 0, portRange: getEnv().nbdPortRange, exportName: root.exportName });
      if (exp.port !== root.port) await updateDisklessRoot(db, root.id, { port: exp.port });
    } catch (e) {
      getLogger("diskless").error({ rootId: root.id, err: (e as Error).message }, "could not start the NBD export of a diskless root");
    }
  }
}
