// Extra disks for a lease (issue 18 part 2, as Bakery's sparse disk.img): a holder asks for N
// disks of a size for a host of their lease; Kiln records them, counted at full size against the
// storage quotas (the holder's and the project's, the same accounts image versions count in),
// and the reconciler (./reconcile.ts, in the worker) makes each sparse file and exports it over
// NBD under a secret name that only the host's rendered templates carry. When the host leaves
// the lease, or the holder deletes a disk, the export stops and the file is deleted.
//
// Every change here is a row written with its audit entry in one transaction; the files and
// exports follow from the rows, so a crash between the commit and the file work loses nothing.
import { randomBytes, randomUUID } from "node:crypto";
import { getHostRowsByIds } from "@/db/queries/hosts";
import { lockStorageAccount, projectStorageBytes, userStorageBytes } from "@/db/queries/images";
import { getLeaseRow } from "@/db/queries/leases";
import {
  getLeaseDiskRow,
  insertLeaseDisks,
  listLeaseDiskRows,
  listLiveHostDisks,
  lockHeldLeaseHost,
  markOrphanDisksWiping,
  updateLeaseDiskFrom,
} from "@/db/queries/lease-disks";
import { getProjectRow } from "@/db/queries/projects";
import type { LeaseDiskRow, LeaseRow } from "@/db/schema";
import type { Db, DbOrTx } from "../db";
import { isOwnerOrAdmin, SYSTEM, type Actor } from "../access/actor";
import { recordAudit } from "../audit/audit";
import { getEnv } from "../env";
import { AppError } from "../errors";
import { enqueueJob } from "../jobs/enqueue";
import { getLogger } from "../log";
import { leaseDiskListQuerySchema, leaseDisksCreateSchema, type LeaseDiskView } from "../validation/extra-disks";
import { parseInput } from "../validation/parse";
import { RECONCILE_LEASE_DISKS_JOB } from "./jobs";
import { diskFilePath } from "./files";

const GB = 1e9;
const MIB = 1024 * 1024;

/** GB (10^9, fractions allowed) as bytes, rounded up to whole MiB: NBD clients want sizes in whole sectors, and MiB keeps them tidy. */
export function diskBytesOf(sizeGb: number): number {
  return Math.ceil((sizeGb * GB) / MIB) * MIB;
}

function fmtGb(bytes: number): string {
  return `${(bytes / GB).toFixed(bytes < 10 * GB ? 3 : 1)} GB`;
}

/** A new export name: 32 random bytes, URL- and kernel-command-line-safe. Whoever knows it can open the disk. */
function newExportName(): string {
  return `kiln-${randomBytes(32).toString("base64url")}`;
}

/** The lease, if the actor may see its disks (its holder, or an admin); anyone else gets 404. */
async function getVisibleLease(db: DbOrTx, actor: Actor, leaseId: string, options: { lock?: boolean } = {}): Promise<LeaseRow> {
  const lease = await getLeaseRow(db, leaseId, options);
  if (!lease || !isOwnerOrAdmin(actor, lease.userId)) throw new AppError("not_found", "That lease does not exist.");
  return lease;
}

async function toViews(db: DbOrTx, rows: LeaseDiskRow[]): Promise<LeaseDiskView[]> {
  const hosts = new Map((await getHostRowsByIds(db, [...new Set(rows.map((r) => r.hostId))])).map((h) => [h.id, h.name]));
  return rows.map((r) => ({
    id: r.id,
    leaseId: r.leaseId,
    hostId: r.hostId,
    hostName: hosts.get(r.hostId) ?? "",
    name: r.name,
    sizeBytes: r.sizeBytes,
    state: r.state,
    exported: r.state === "ready" && r.exportPort !== null,
    lastError: r.lastError,
    createdAt: r.createdAt.toISOString(),
    readyAt: r.readyAt?.toISOString() ?? null,
    wipedAt: r.wipedAt?.toISOString() ?? null,
  }));
}

export function extraDiskLimits() {
  const env = getEnv();
  return { perHost: env.KILN_EXTRA_DISKS_PER_HOST, maxSizeGb: env.KILN_EXTRA_DISK_MAX_GB };
}

/** The worker makes files and exports (or wipes them) as soon as it can; its periodic run mends a lost enqueue. */
async function wakeReconciler(): Promise<void> {
  await enqueueJob(RECONCILE_LEASE_DISKS_JOB, {}, { singletonKey: "reconcile-lease-disks" }).catch((err) =>
    getLogger("extra-disks").warn({ err: err instanceof Error ? err.message : err }, "could not queue the disk reconciler; its next periodic run will do the work"),
  );
}

/** A lease's disks (live ones; `history=true` also the wiped), for its holder or an admin. */
export async function listLeaseDisks(db: Db, actor: Actor, leaseId: string, query: unknown = {}) {
  const q = parseInput(leaseDiskListQuerySchema, query);
  await getVisibleLease(db, actor, leaseId);
  const rows = await listLeaseDiskRows(db, { leaseId, live: !q.history });
  return { data: await toViews(db, rows), limits: extraDiskLimits() };
}

/**
 * Asks for `count` disks of `sizeGb` for a host the lease holds. Refused (with what to change)
 * over the per-host count, over the size limit, or over the holder's or the project's storage
 * quota — each disk counted at its full size.
 */
export async function createLeaseDisks(db: Db, actor: Actor, leaseId: string, input: unknown, clock: { now?: Date } = {}) {
  const data = parseInput(leaseDisksCreateSchema, input);
  const now = clock.now ?? new Date();
  const env = getEnv();
  const { perHost, maxSizeGb } = extraDiskLimits();
  if (perHost === 0) throw new AppError("forbidden", "Extra disks are switched off on this Kiln (KILN_EXTRA_DISKS_PER_HOST=0).");
  if (data.sizeGb > maxSizeGb) throw AppError.field("sizeGb", `A disk can be at most ${maxSizeGb} GB on this Kiln; you asked for ${data.sizeGb} GB.`);
  const sizeBytes = diskBytesOf(data.sizeGb);
  const created = await db.transaction(async (tx) => {
    // The lease row lock serialises this with the lease's release (which takes it first).
    const lease = await getVisibleLease(tx, actor, leaseId, { lock: true });
    if (lease.state !== "active") throw new AppError("conflict", `This lease has already ${lease.state === "expired" ? "expired" : "been released"}; its disks are wiped.`);
    if (!(await lockHeldLeaseHost(tx, { leaseId, hostId: data.hostId }))) throw AppError.field("hostId", "That host is not held under this lease.");
    const live = await listLiveHostDisks(tx, data.hostId);
    const counted = live.filter((d) => d.state !== "wiping").length;
    if (counted + data.count > perHost) {
      throw new AppError(
        "quota_exceeded",
        `A host may have at most ${perHost} extra disk${perHost === 1 ? "" : "s"}; this one has ${counted} and you asked for ${data.count} more. Delete one first, or ask for fewer.`,
        { quota: "extraDisksPerHost", limit: perHost, used: counted, requested: data.count },
      );
    }
    // Charged to the lease's holder (also when an admin asks for them), as image versions are to their uploader.
    const requester = lease.userId;
    const total = sizeBytes * data.count;
    const what =
      data.count === 1
        ? `A disk of ${fmtGb(sizeBytes)} (${sizeBytes} bytes, counted in full although the file is sparse)`
        : `${data.count} disks of ${fmtGb(sizeBytes)} each (${fmtGb(total)}, ${total} bytes in all, counted in full although the files are sparse)`;
    await lockStorageAccount(tx, `user:${requester}`);
    const userLimit = Math.floor(env.KILN_STORAGE_QUOTA_PER_USER_GB * GB);
    const userUsed = await userStorageBytes(tx, requester);
    if (userUsed + total > userLimit) {
      throw new AppError(
        "quota_exceeded",
        `${what} would exceed ${actor.user?.id === requester ? "your" : "the holder's"} storage quota: ${actor.user?.id === requester ? "your" : "their"} images and disks use ${fmtGb(userUsed)} of ${fmtGb(userLimit)}, ${fmtGb(Math.max(0, userLimit - userUsed))} free. Ask for smaller or fewer disks, delete some, or ask an administrator.`,
        { quota: "user", usedBytes: userUsed, limitBytes: userLimit, requestedBytes: total },
      );
    }
    const project = (await getProjectRow(tx, lease.projectId))!;
    if (project.maxStorageGb !== null) {
      await lockStorageAccount(tx, `project:${project.id}`);
      const projectLimit = project.maxStorageGb * GB;
      const projectUsed = await projectStorageBytes(tx, project.id);
      if (projectUsed + total > projectLimit) {
        throw new AppError(
          "quota_exceeded",
          `${what} would exceed the storage quota of project ${project.name}: its images and disks use ${fmtGb(projectUsed)} of ${fmtGb(projectLimit)}, ${fmtGb(Math.max(0, projectLimit - projectUsed))} free.`,
          { quota: "project", usedBytes: projectUsed, limitBytes: projectLimit, requestedBytes: total },
        );
      }
    }
    const taken = new Set(live.map((d) => d.position));
    const positions: number[] = [];
    for (let p = 1; positions.length < data.count; p++) if (!taken.has(p)) positions.push(p);
    const rows = await insertLeaseDisks(
      tx,
      positions.map((position) => {
        const id = randomUUID();
        return { id, leaseId, hostId: data.hostId, projectId: lease.projectId, createdByUserId: requester, position, name: `disk${position}`, sizeBytes, path: diskFilePath(env.extraDisksDir, id), exportName: newExportName(), state: "creating" as const, createdAt: now };
      }),
    );
    const [host] = await getHostRowsByIds(tx, [data.hostId]);
    await recordAudit(tx, actor, {
      action: "lease.disk.create",
      targetType: "lease",
      targetId: leaseId,
      summary: `asked for ${data.count} disk${data.count === 1 ? "" : "s"} of ${fmtGb(sizeBytes)} on ${host?.name ?? data.hostId}: ${rows.map((r) => r.name).join(", ")}`,
      data: { hostId: data.hostId, diskIds: rows.map((r) => r.id), sizeBytes, count: data.count },
    });
    return rows;
  });
  await wakeReconciler();
  return { data: await toViews(db, created), limits: extraDiskLimits() };
}

/** The holder (or an admin) deletes a disk before the lease ends: its export stops and its file goes. */
export async function deleteLeaseDisk(db: Db, actor: Actor, leaseId: string, diskId: string, clock: { now?: Date } = {}): Promise<LeaseDiskView> {
  const now = clock.now ?? new Date();
  const row = await db.transaction(async (tx) => {
    await getVisibleLease(tx, actor, leaseId, { lock: true });
    const disk = await getLeaseDiskRow(tx, diskId, { lock: true });
    if (!disk || disk.leaseId !== leaseId) throw new AppError("not_found", "That disk does not exist in this lease.");
    if (disk.state === "wiping" || disk.state === "wiped") throw new AppError("conflict", `${disk.name} is already ${disk.state === "wiped" ? "wiped" : "being wiped"}.`);
    const marked = await updateLeaseDiskFrom(tx, { id: diskId, from: ["creating", "ready"] }, { state: "wiping", wipeRequestedAt: now });
    if (!marked) throw new AppError("conflict", `${disk.name} is already being wiped.`);
    await recordAudit(tx, actor, { action: "lease.disk.delete", targetType: "lease", targetId: leaseId, summary: `deleted ${disk.name} (${fmtGb(disk.sizeBytes)}); its export stops and its file is deleted`, data: { diskId, hostId: disk.hostId } });
    return marked;
  });
  await wakeReconciler();
  return (await toViews(db, [row]))[0]!;
}

/**
 * Called after a lease's hosts have left it (release, expiry, a host handed on): its disks are
 * marked for wiping and the worker is woken. If this never runs (a crash right after the
 * release's commit), the reconciler finds the same disks by their released hosts.
 */
export async function endLeaseDisks(db: Db, leaseId: string, clock: { now?: Date } = {}): Promise<number> {
  try {
    const marked = await db.transaction(async (tx) => {
      const rows = await markOrphanDisksWiping(tx, clock.now ?? new Date(), leaseId);
      if (rows.length) await recordAudit(tx, SYSTEM, { action: "lease.disk.wipe", targetType: "lease", targetId: leaseId, summary: `the lease's host left it: wiping ${rows.map((r) => r.name).join(", ")}`, data: { diskIds: rows.map((r) => r.id) } });
      return rows.length;
    });
    if (marked) await wakeReconciler();
    return marked;
  } catch (err) {
    // Never fail a release over its disks: the reconciler marks them on its next run.
    getLogger("extra-disks").error({ err, leaseId }, "could not mark a released lease's disks for wiping; the reconciler will");
    return 0;
  }
}
