// Maintenance windows (admins): time a pool or one host is out of service. No reservation is
// admitted over one and no lease takes a host under one (db/queries isFreeDuring). A new window
// over scheduled reservations re-chooses their hosts there and then and says which it affected;
// one over active leases is refused unless forced (those leases are not touched: ending someone's
// lease early is a decision for a person, not a side effect).
import { getHostRow } from "@/db/queries/hosts";
import { getPoolRow } from "@/db/queries/pools";
import { deleteMaintenanceWindowRow, insertMaintenanceWindow, listLeasesUnderWindow, listMaintenanceWindowRows, listReservationsUnderWindow } from "@/db/queries/maintenance-windows";
import { getReservationRow } from "@/db/queries/reservations";
import { getProjectRow } from "@/db/queries/projects";
import type { MaintenanceWindowRow } from "@/db/schema";
import type { Db, DbOrTx } from "../db";
import { nowOf, type Clock } from "../clock";
import { AppError } from "../errors";
import { assertAdmin, type Actor } from "../access/actor";
import { recordAudit } from "../audit/audit";
import { paginated } from "../validation/common";
import { parseInput } from "../validation/parse";
import { maintenanceWindowCreateSchema, maintenanceWindowListQuerySchema } from "../validation/reservations";
import { rechooseReservationHosts } from "./hosts";
import { utcText } from "./reservations";

export type MaintenanceWindowView = {
  id: string;
  poolId: string | null;
  poolName: string | null;
  hostId: string | null;
  hostName: string | null;
  startsAt: string;
  endsAt: string;
  reason: string;
  createdAt: string;
};

const ADMIN_ONLY = "Only administrators manage maintenance windows.";

function toView(w: MaintenanceWindowRow, names: { poolName: string | null; hostName: string | null }): MaintenanceWindowView {
  return {
    id: w.id,
    poolId: w.poolId,
    poolName: names.poolName,
    hostId: w.hostId,
    hostName: names.hostName,
    startsAt: w.startsAt.toISOString(),
    endsAt: w.endsAt.toISOString(),
    reason: w.reason,
    createdAt: w.createdAt.toISOString(),
  };
}

export type AffectedReservation = { id: string; title: string; projectName: string; replaced: { from: string; to: string | null }[]; short: boolean };

/** Re-chooses the hosts of the scheduled reservations with bookings under [from, to) on the window's hosts. */
async function rechooseUnder(tx: DbOrTx, actor: Actor, w: { poolId: string | null; hostId: string | null; startsAt: Date; endsAt: Date }, now: Date): Promise<AffectedReservation[]> {
  const affected: AffectedReservation[] = [];
  for (const id of await listReservationsUnderWindow(tx, { poolId: w.poolId, hostId: w.hostId, from: w.startsAt, to: w.endsAt })) {
    const r = await getReservationRow(tx, id, { lock: true });
    if (!r || r.state !== "scheduled") continue;
    const res = await rechooseReservationHosts(tx, r, { now, actor });
    const project = await getProjectRow(tx, r.projectId);
    affected.push({ id: r.id, title: r.title, projectName: project?.name ?? "", replaced: res.replaced, short: res.short });
  }
  return affected;
}

/** POST /api/v1/maintenance-windows */
export async function createMaintenanceWindow(db: Db, actor: Actor, input: unknown, clock: Clock = {}) {
  assertAdmin(actor, ADMIN_ONLY);
  const data = parseInput(maintenanceWindowCreateSchema, input);
  const now = nowOf(clock);
  if (data.endsAt <= now) throw AppError.field("endsAt", "That window is already over.");
  return db.transaction(async (tx) => {
    const pool = data.poolId ? await getPoolRow(tx, data.poolId) : undefined;
    if (data.poolId && !pool) throw AppError.field("poolId", "That pool does not exist.");
    const host = data.hostId ? await getHostRow(tx, data.hostId) : undefined;
    if (data.hostId && !host) throw AppError.field("hostId", "That host does not exist.");
    const target = { poolId: data.poolId ?? null, hostId: data.hostId ?? null };
    const leases = await listLeasesUnderWindow(tx, { ...target, from: data.startsAt, to: data.endsAt });
    if (leases.length && !data.force) {
      const list = leases.map((l) => `project ${l.projectName}'s lease of ${l.hosts.join(", ")} (until ${utcText(l.endsAt)})`).join("; ");
      throw new AppError(
        "conflict",
        `Active leases hold hosts in that time: ${list}. Choose another time, or create the window with force (those leases are not touched; their hosts stay with their holders until the leases end).`,
        { leases: leases.map((l) => ({ leaseId: l.leaseId, projectName: l.projectName, hosts: l.hosts, endsAt: l.endsAt.toISOString() })) },
      );
    }
    const w = await insertMaintenanceWindow(tx, { ...target, startsAt: data.startsAt, endsAt: data.endsAt, reason: data.reason, createdByUserId: actor.user?.id ?? null });
    const affected = await rechooseUnder(tx, actor, w, now);
    const what = host ? `host ${host.name}` : `pool ${pool!.name}`;
    await recordAudit(tx, actor, {
      action: "maintenance.create",
      targetType: "maintenance_window",
      targetId: w.id,
      summary: `maintenance of ${what} ${utcText(w.startsAt)} – ${utcText(w.endsAt)}${w.reason ? ` (${w.reason})` : ""}; ${affected.length} reservation${affected.length === 1 ? "" : "s"} re-planned${leases.length ? `; ${leases.length} active lease${leases.length === 1 ? "" : "s"} left as they are (forced)` : ""}`,
      data: { ...target, affected, leases: leases.map((l) => l.leaseId), force: data.force },
    });
    return {
      window: toView(w, { poolName: pool?.name ?? null, hostName: host?.name ?? null }),
      affectedReservations: affected,
      overlappingLeases: leases.map((l) => ({ leaseId: l.leaseId, projectName: l.projectName, hosts: l.hosts, endsAt: l.endsAt.toISOString() })),
    };
  });
}

/** GET /api/v1/maintenance-windows — anyone signed in: the calendar shows them, and they explain refusals. */
export async function listMaintenanceWindows(db: Db, actor: Actor, query: unknown) {
  if (!actor.user && !actor.isSystem) throw new AppError("unauthorized", "Sign in to see maintenance windows.");
  const q = parseInput(maintenanceWindowListQuerySchema, query);
  const { rows, total } = await listMaintenanceWindowRows(db, { poolId: q.poolId, hostId: q.hostId, from: q.from, to: q.to, limit: q.per_page, offset: (q.page - 1) * q.per_page });
  return paginated(rows.map((r) => toView(r.window, r)), q, total);
}

/** DELETE /api/v1/maintenance-windows/:id — the time is free again (nothing else changes). */
export async function deleteMaintenanceWindow(db: Db, actor: Actor, id: string): Promise<{ ok: true }> {
  assertAdmin(actor, ADMIN_ONLY);
  await db.transaction(async (tx) => {
    const { rows } = await listMaintenanceWindowRows(tx, { id, limit: 1, offset: 0 });
    const row = await deleteMaintenanceWindowRow(tx, id);
    if (!row) throw new AppError("not_found", "That maintenance window does not exist.");
    const what = rows[0]?.hostName ? `host ${rows[0].hostName}` : `pool ${rows[0]?.poolName ?? "?"}`;
    await recordAudit(tx, actor, { action: "maintenance.delete", targetType: "maintenance_window", targetId: id, summary: `removed maintenance of ${what} ${utcText(row.startsAt)} – ${utcText(row.endsAt)}` });
  });
  return { ok: true };
}
