// Makes the disks' files and exports match their rows (the rows are the intent; see
// db/schema/lease-disks.ts). Runs in the worker: after each change (queued), at worker start and
// every minute, so whatever a crash interrupted — a row committed before its file was made, a
// release whose disks were never marked, a wipe half done — is finished by the next run.
// Idempotent: every step can run twice.
import { listUnfinishedLeaseDisks, markOrphanDisksWiping, setLeaseDiskError, updateLeaseDiskFrom } from "@/db/queries/lease-disks";
import type { LeaseDiskRow } from "@/db/schema";
import type { Db } from "../db";
import { SYSTEM } from "../access/actor";
import { recordAudit } from "../audit/audit";
import { getLogger } from "../log";
import { createSparseFile, removeDiskFile } from "./files";
import type { DiskExporter } from "./exporter";

export type ReconcileResult = { marked: number; made: number; exported: number; wiped: number; failed: number };

export async function reconcileLeaseDisks(db: Db, exporter: DiskExporter, clock: { now?: Date } = {}): Promise<ReconcileResult> {
  const now = clock.now ?? new Date();
  const log = getLogger("extra-disks");
  const result: ReconcileResult = { marked: 0, made: 0, exported: 0, wiped: 0, failed: 0 };

  // Disks whose host left the lease (released, expired, handed on) while their rows stayed live.
  await db.transaction(async (tx) => {
    const rows = await markOrphanDisksWiping(tx, now);
    for (const r of rows) {
      await recordAudit(tx, SYSTEM, { action: "lease.disk.wipe", targetType: "lease", targetId: r.leaseId, summary: `the host left the lease: wiping ${r.name}`, data: { diskId: r.id, hostId: r.hostId } });
    }
    result.marked = rows.length;
  });

  for (const disk of await listUnfinishedLeaseDisks(db)) {
    try {
      if (disk.state === "wiping") {
        await wipe(db, exporter, disk, now);
        result.wiped++;
      } else {
        const made = await makeReady(db, exporter, disk, now);
        if (made === "made") result.made++;
        else if (made === "exported") result.exported++;
      }
    } catch (err) {
      result.failed++;
      const message = err instanceof Error ? err.message : String(err);
      log.error({ err, diskId: disk.id, state: disk.state }, "extra disk: could not bring the file and export in line with the row");
      await setLeaseDiskError(db, disk.id, message.slice(0, 500)).catch(() => {});
    }
  }
  // Exports nothing claims (a row wiped by another worker, or a process left over): stop them.
  const live = new Set((await listUnfinishedLeaseDisks(db)).filter((d) => d.state !== "wiping").map((d) => d.exportName));
  for (const name of await exporter.list()) {
    if (!live.has(name)) await exporter.stop(name).catch((err) => log.warn({ err }, "could not stop a stray disk export"));
  }
  return result;
}

/** creating → file made and exported → ready; ready → export running (again, after a restart). */
async function makeReady(db: Db, exporter: DiskExporter, disk: LeaseDiskRow, now: Date): Promise<"made" | "exported" | "unchanged"> {
  await createSparseFile(disk.path, disk.sizeBytes);
  const at = await exporter.ensure({ name: disk.exportName, file: disk.path, sizeBytes: disk.sizeBytes, port: disk.exportPort });
  if (disk.state === "creating") {
    const row = await updateLeaseDiskFrom(db, { id: disk.id, from: ["creating"] }, { state: "ready", readyAt: now, exportAddress: at.address, exportPort: at.port, lastError: null });
    // Marked for wiping meanwhile: the next run (or this one's caller) wipes it.
    if (!row) await exporter.stop(disk.exportName);
    return "made";
  }
  if (disk.exportAddress !== at.address || disk.exportPort !== at.port || disk.lastError) {
    await updateLeaseDiskFrom(db, { id: disk.id, from: ["ready"] }, { exportAddress: at.address, exportPort: at.port, lastError: null });
    return "exported";
  }
  return "unchanged";
}

/** wiping → export stopped, file deleted → wiped. */
async function wipe(db: Db, exporter: DiskExporter, disk: LeaseDiskRow, now: Date): Promise<void> {
  // The export first: a client must not keep writing into a file that is being deleted.
  await exporter.stop(disk.exportName);
  await removeDiskFile(disk.path);
  await db.transaction(async (tx) => {
    const row = await updateLeaseDiskFrom(tx, { id: disk.id, from: ["wiping"] }, { state: "wiped", wipedAt: now, exportAddress: null, exportPort: null, lastError: null });
    if (row) await recordAudit(tx, SYSTEM, { action: "lease.disk.wiped", targetType: "lease", targetId: disk.leaseId, summary: `wiped ${disk.name}: export stopped, file deleted`, data: { diskId: disk.id, hostId: disk.hostId } });
  });
}
