// One file: a reservation's admission (quotas, host choice, capacity refusal, arch) is most of it and
// runs as one transaction, read in order; views and cancel are what is left.
// Advance reservations (issue 16 item 1): N hosts of a pool from a start to an end, admitted
// only if capacity holds at every moment of [prepareFrom, endsAt) — leases, other reservations,
// maintenance windows — and the project's quotas allow it. Hosts are chosen at admission, so
// the promise is concrete, and booked in host_bookings, where PostgreSQL itself forbids a host
// booked twice. Admission locks the project row (as createLease does): a project's own
// admissions and leases are serialised, so its quotas are counted exactly; admissions of
// different projects race only on hosts, and the exclusion constraint settles those.
import { getImageRow, getImageVersionRow } from "@/db/queries/images";
import { archLabel, archMismatch } from "../hosts/arch";
import type { HostArchName } from "../validation/inventory";
import { listGroupDeployments, listLatestGroupIdsOfReservations } from "@/db/queries/deployment-groups";
import { getHostRowsByIds } from "@/db/queries/hosts";
import { getPoolRow } from "@/db/queries/pools";
import { listAudit } from "@/db/queries/audit";
import { lockProject, projectNodeHours } from "@/db/queries/projects";
import {
  countCandidateHosts,
  deleteReservationBookings,
  getProjectPeakHosts,
  getReservationRow,
  insertReservation,
  insertReservationHosts,
  listBookingConflicts,
  listMaintenanceConflicts,
  listReservationHostRows,
  listReservationRows,
  pickReservableHosts,
  RESERVABLE_HOST_STATES,
  updateReservationRow,
} from "@/db/queries/reservations";
import type { PoolRow, ProjectRow, ReservationCriteria, ReservationRow } from "@/db/schema";
import type { Db, DbOrTx } from "../db";
import { nowOf, type Clock } from "../clock";
import { AppError, isAppError } from "../errors";
import { assertAdmin, isOwnerOrAdmin, type Actor } from "../access/actor";
import { recordAudit } from "../audit/audit";
import { hoursText, maxLeaseHours, resolveHolder, resolveProject } from "../projects/charging";
import { monthWindow } from "../projects/projects";
import { releaseLease } from "../leases/leases";
import { paginated } from "../validation/common";
import { pickHardwareFilter } from "../validation/inventory";
import { parseInput } from "../validation/parse";
import { reservationCreateSchema, reservationListQuerySchema } from "../validation/reservations";
import { planDeployLead } from "./ready";
import { describeDeploy, loadDeployNames, pinReservationDeploy } from "./deploy-spec";
import { bookReservationHosts } from "./hosts";

const HOUR = 3600_000;
/** A start this far in the past is still "now-ish" (a form submitted a moment late); further back is refused. */
export const START_SLACK_MS = 60_000;
/** How many conflicts a capacity refusal names. */
const CONFLICTS_SHOWN = 5;

export type ReservationView = {
  id: string;
  state: ReservationRow["state"];
  title: string;
  projectId: string;
  projectName: string;
  userId: string;
  userEmail: string;
  poolId: string | null;
  poolName: string | null;
  count: number;
  criteria: ReservationCriteria;
  startsAt: string;
  endsAt: string;
  /** When its hosts are taken: the start, or earlier by the deploy lead. */
  prepareFrom: string;
  /** Every host chosen, replaced ones included (replacedAt and replacedReason set). */
  hosts: { id: string; name: string; state: string; chosenAt: string; replacedAt: string | null; replacedReason: string | null }[];
  deploySummary: string | null;
  deploy: ReservationRow["deploy"];
  plan: ReservationRow["plan"];
  /** The deployment group its "ready at the start" deploys run in, once started (the newest, if retried). */
  groupId: string | null;
  leaseId: string | null;
  failureReason: string | null;
  cancelledAt: string | null;
  createdAt: string;
};

export function utcText(d: Date): string {
  return `${d.toISOString().replace("T", " ").slice(0, 16)} UTC`;
}

function spanText(from: Date, to: Date): string {
  const sameDay = from.toISOString().slice(0, 10) === to.toISOString().slice(0, 10);
  return `${utcText(from).replace(" UTC", "")}–${sameDay ? to.toISOString().slice(11, 16) : utcText(to).replace(" UTC", "")} UTC`;
}

/** Node-hours of [start, end) inside each calendar month (UTC) it touches. */
function hoursPerMonth(start: Date, end: Date): { month: Date; to: Date; hours: number }[] {
  const out: { month: Date; to: Date; hours: number }[] = [];
  let cursor = start;
  while (cursor < end) {
    const { from, to } = monthWindow(cursor);
    const e = to < end ? to : end;
    out.push({ month: from, to, hours: (e.getTime() - cursor.getTime()) / HOUR });
    cursor = e;
  }
  return out;
}

function monthName(d: Date): string {
  return d.toLocaleString("en", { month: "long", year: "numeric", timeZone: "UTC" });
}

async function assertReservationQuotas(tx: DbOrTx, project: ProjectRow, p: { pool: PoolRow | undefined; count: number; startsAt: Date; endsAt: Date; prepareFrom: Date; now: Date }) {
  const hours = (p.endsAt.getTime() - p.startsAt.getTime()) / HOUR;
  const max = maxLeaseHours(p.pool, project);
  if (max.hours !== null && hours > max.hours + 1e-9) {
    throw new AppError("quota_exceeded", `${max.source} allows leases and reservations of at most ${hoursText(max.hours)}; you asked for ${hoursText(hours)}.`, {
      quota: "maxLeaseHours",
      limit: max.hours,
      requested: hours,
    });
  }
  if (project.maxAdvanceDays !== null) {
    const days = (p.startsAt.getTime() - p.now.getTime()) / (24 * HOUR);
    if (days > project.maxAdvanceDays) {
      const latest = new Date(p.now.getTime() + project.maxAdvanceDays * 24 * HOUR);
      throw new AppError(
        "quota_exceeded",
        `Project ${project.name} may reserve at most ${project.maxAdvanceDays} day${project.maxAdvanceDays === 1 ? "" : "s"} ahead (a start by ${utcText(latest)}); this one starts in ${Math.ceil(days * 10) / 10} days.`,
        { quota: "maxAdvanceDays", limit: project.maxAdvanceDays, requested: days },
      );
    }
  }
  if (project.maxNodeHoursPerMonth !== null) {
    for (const m of hoursPerMonth(p.prepareFrom, p.endsAt)) {
      const used = Math.round((await projectNodeHours(tx, { projectId: project.id, from: m.month, to: m.to })) * 10) / 10;
      const add = p.count * m.hours;
      if (used + add > project.maxNodeHoursPerMonth + 1e-9) {
        throw new AppError(
          "quota_exceeded",
          `Project ${project.name} has ${project.maxNodeHoursPerMonth} node-hours per month; in ${monthName(m.month)} ${hoursText(used)} are used or booked and this reservation needs ${hoursText(add)} more.`,
          { quota: "maxNodeHoursPerMonth", limit: project.maxNodeHoursPerMonth, used, requested: add, month: m.month.toISOString().slice(0, 7) },
        );
      }
    }
  }
  if (project.maxHosts !== null) {
    const peak = await getProjectPeakHosts(tx, { projectId: project.id, from: p.prepareFrom, to: p.endsAt });
    if (peak + p.count > project.maxHosts) {
      throw new AppError(
        "quota_exceeded",
        `Project ${project.name} may hold at most ${project.maxHosts} hosts at once; during this time it already holds or has booked up to ${peak}, and this reservation needs ${p.count} more.`,
        { quota: "maxHosts", limit: project.maxHosts, used: peak, requested: p.count },
      );
    }
  }
}

type Target = { pool: PoolRow | undefined; poolId: string | null; hostIds?: string[]; count: number; label: string };

/** The pool (or named hosts) asked for, checked. */
async function resolveTarget(tx: DbOrTx, data: { poolId?: string; hostIds?: string[]; count: number }): Promise<Target> {
  const pool = data.poolId ? await getPoolRow(tx, data.poolId) : undefined;
  if (data.poolId && !pool) throw AppError.field("poolId", "That pool does not exist.");
  if (!data.hostIds) return { pool, poolId: pool!.id, count: data.count, label: `pool ${pool!.name}` };
  const ids = [...new Set(data.hostIds)];
  const rows = await getHostRowsByIds(tx, ids);
  if (rows.length !== ids.length) throw AppError.field("hostIds", "One of these hosts does not exist.");
  if (pool) {
    const outside = rows.find((h) => h.poolId !== pool.id);
    if (outside) throw AppError.field("hostIds", `Host ${outside.name} is not in pool ${pool.name}.`);
  }
  const poolIds = [...new Set(rows.map((h) => h.poolId))];
  const poolId = pool?.id ?? (poolIds.length === 1 ? poolIds[0]! : null);
  const unusable = rows.find((h) => !(RESERVABLE_HOST_STATES as readonly string[]).includes(h.state));
  if (unusable) throw new AppError("conflict", `Host ${unusable.name} is ${unusable.state}, so it cannot be promised to a reservation. Nothing was reserved.`);
  const names = rows.map((h) => h.name).sort();
  return { pool: pool ?? (poolId ? await getPoolRow(tx, poolId) : undefined), poolId, hostIds: ids, count: ids.length, label: `host${names.length === 1 ? "" : "s"} ${names.join(", ")}` };
}

function criteriaWords(c: ReservationCriteria): string {
  const parts: string[] = [];
  if (c.tags?.length) parts.push(`tags ${c.tags.join(", ")}`);
  const hw = pickHardwareFilter(c as never);
  if (Object.keys(hw).length) parts.push("the hardware asked for");
  return parts.length ? ` with ${parts.join(" and ")}` : "";
}

/** The capacity refusal: how many hosts are free for the whole interval, and what is in the way (by project, never person). */
async function capacityRefusal(tx: DbOrTx, p: { target: Target; criteria: ReservationCriteria; free: number; from: Date; to: Date; startsAt: Date }): Promise<AppError> {
  const { hostIds: _named, ...criteria } = p.criteria;
  const scope = { poolId: p.target.hostIds ? undefined : (p.target.poolId ?? undefined), hostIds: p.target.hostIds, criteria };
  const candidates = await countCandidateHosts(tx, scope);
  const bookings = await listBookingConflicts(tx, { ...scope, from: p.from, to: p.to, limit: CONFLICTS_SHOWN + 1 });
  const windows = await listMaintenanceConflicts(tx, { poolId: p.target.hostIds ? undefined : (p.target.poolId ?? undefined), hostIds: p.target.hostIds, from: p.from, to: p.to });
  const words = [
    ...bookings.slice(0, CONFLICTS_SHOWN).map((b) => `${b.hostName} ${b.kind === "lease" ? "leased" : "reserved"} by project ${b.projectName} ${spanText(b.from, b.to)}`),
    ...windows.slice(0, CONFLICTS_SHOWN).map((w) => `${w.hostName ? `${w.hostName}` : `pool ${w.poolName}`} in maintenance ${spanText(w.startsAt, w.endsAt)}${w.reason ? ` (${w.reason})` : ""}`),
  ];
  const more = bookings.length > CONFLICTS_SHOWN ? "; and more" : "";
  const when = p.from < p.startsAt ? `${spanText(p.from, p.to)} (from ${utcText(p.from)} to deploy before the start)` : spanText(p.from, p.to);
  const what = p.target.hostIds
    ? `Only ${p.free} of ${p.target.label} ${p.free === 1 ? "is" : "are"} free for the whole of ${when}`
    : `Only ${p.free} of the ${candidates} usable host${candidates === 1 ? "" : "s"} of ${p.target.label}${criteriaWords(p.criteria)} ${p.free === 1 ? "is" : "are"} free for the whole of ${when}; you asked for ${p.target.count}`;
  const message = `${what}.${words.length ? ` In the way: ${words.join("; ")}${more}.` : ""} Nothing was reserved.`;
  return new AppError("insufficient_capacity", message, {
    available: p.free,
    requested: p.target.count,
    candidates,
    conflicts: [
      ...bookings.slice(0, CONFLICTS_SHOWN).map((b) => ({ host: b.hostName, kind: b.kind, project: b.projectName, from: b.from.toISOString(), to: b.to.toISOString() })),
      ...windows.map((w) => ({ host: w.hostName, pool: w.poolName, kind: "maintenance", from: w.startsAt.toISOString(), to: w.endsAt.toISOString() })),
    ],
  });
}

/**
 * The architecture a reservation that deploys `version` needs of its hosts; refuses (400) an
 * `arch` filter that contradicts it, and named hosts of another architecture, by name.
 */
async function reservationArch(db: Db, p: { imageId: string; version: number; asked: HostArchName | undefined; hostIds: string[] | undefined }): Promise<HostArchName | null> {
  const [image, version] = await Promise.all([getImageRow(db, p.imageId), getImageVersionRow(db, { imageId: p.imageId, version: p.version })]);
  if (!image || !version) return null;
  if (p.asked && p.asked !== version.arch) throw AppError.field("arch", `${image.name} v${version.version} is for ${archLabel(version.arch)}; hosts of ${archLabel(p.asked)} cannot run it. Nothing was reserved.`);
  for (const host of p.hostIds ? await getHostRowsByIds(db, p.hostIds) : []) {
    const why = archMismatch(host, image, version);
    if (why) throw AppError.field("deploy.imageVersion", why.replace("nothing was started", "nothing was reserved"));
  }
  return version.arch;
}

/** POST /api/v1/reservations — admits a reservation, or says exactly why not. All or nothing. */
export async function createReservation(db: Db, actor: Actor, input: unknown, clock: Clock = {}): Promise<ReservationView> {
  if (!actor.user && !actor.isSystem) throw new AppError("unauthorized", "Sign in to reserve hosts.");
  const data = parseInput(reservationCreateSchema, input);
  const now = nowOf(clock);
  if (data.startsAt.getTime() < now.getTime() - START_SLACK_MS) {
    throw AppError.field("startsAt", `The start (${utcText(data.startsAt)}) is in the past. To use hosts now, lease them instead.`);
  }
  if (data.endsAt.getTime() <= now.getTime()) throw AppError.field("endsAt", "The end is in the past.");
  const deploy = data.deploy ? await pinReservationDeploy(db, actor, data.deploy) : null;
  const criteria: ReservationCriteria = {
    ...(data.tags.length ? { tags: data.tags } : {}),
    ...pickHardwareFilter(data),
    ...(data.hostIds ? { hostIds: [...new Set(data.hostIds)] } : {}),
  };
  // What it deploys decides the architecture of the hosts it may be given (lib/hosts/arch.ts).
  if (deploy?.imageId && deploy.imageVersion) {
    const fit = await reservationArch(db, { imageId: deploy.imageId, version: deploy.imageVersion, asked: data.arch, hostIds: criteria.hostIds });
    if (fit) criteria.arch = fit;
  }

  const id = await db.transaction(async (tx) => {
    const holder = await resolveHolder(tx, actor, data.userId, "reservation");
    const projectId = await resolveProject(tx, holder, data.projectId, "reservation");
    const project = (await lockProject(tx, projectId))!;
    const target = await resolveTarget(tx, data);
    if (!target.hostIds && target.pool) {
      const all = await countCandidateHosts(tx, { poolId: target.pool.id, criteria: {} });
      if (target.count > all) throw AppError.field("count", `Pool ${target.pool.name} has ${all} usable host${all === 1 ? "" : "s"} in all; you asked for ${target.count}.`);
    }
    const { hostIds: _named, ...hostCriteria } = criteria;
    const scope = { poolId: target.hostIds ? undefined : (target.poolId ?? undefined), hostIds: target.hostIds, criteria: hostCriteria };

    // The lead depends on the hosts (their measured deploy times) and the hosts on the interval:
    // plan with the hosts free for [start, end), then choose for [start - lead, end).
    let plan: ReservationRow["plan"] = null;
    let prepareFrom = data.startsAt;
    if (deploy) {
      const likely = await pickReservableHosts(tx, { ...scope, from: data.startsAt, to: data.endsAt, count: target.count });
      plan = await planDeployLead(tx, { deploy, hostIds: likely.map((h) => h.id) });
      const lead = new Date(data.startsAt.getTime() - plan.leadSeconds * 1000);
      // A lead that reaches into the past starts preparing now (the plan may then not be met; the page says so afterwards).
      prepareFrom = new Date(Math.min(data.startsAt.getTime(), Math.max(now.getTime(), lead.getTime())));
    }
    await assertReservationQuotas(tx, project, { pool: target.pool, count: target.count, startsAt: data.startsAt, endsAt: data.endsAt, prepareFrom, now });

    const reservation = await insertReservation(tx, {
      projectId,
      userId: holder.id,
      createdByUserId: actor.user?.id ?? null,
      poolId: target.poolId,
      title: data.title,
      count: target.count,
      criteria,
      startsAt: data.startsAt,
      endsAt: data.endsAt,
      prepareFrom,
      deploy,
      plan,
    });
    const { booked, free } = await bookReservationHosts(tx, {
      reservationId: reservation.id,
      poolId: target.hostIds ? null : target.poolId,
      hostIds: target.hostIds,
      criteria: hostCriteria,
      count: target.count,
      from: prepareFrom,
      to: data.endsAt,
      mode: "all",
    });
    if (booked.length < target.count) throw await capacityRefusal(tx, { target, criteria, free, from: prepareFrom, to: data.endsAt, startsAt: data.startsAt });
    await insertReservationHosts(tx, reservation.id, booked.map((h) => h.id), now);
    const names = booked.map((h) => h.name).sort();
    await recordAudit(tx, actor, {
      action: "reservation.create",
      targetType: "reservation",
      targetId: reservation.id,
      summary: `reserved ${names.join(", ")} for ${holder.email} in ${project.name}, ${spanText(data.startsAt, data.endsAt)}${prepareFrom < data.startsAt ? ` (taken from ${utcText(prepareFrom)} to deploy)` : ""}`,
      data: { hostIds: booked.map((h) => h.id), projectId, poolId: target.poolId, startsAt: data.startsAt.toISOString(), endsAt: data.endsAt.toISOString(), prepareFrom: prepareFrom.toISOString(), deploy },
    });
    return reservation.id;
  });
  return getReservationView(db, id);
}

async function toReservationViews(db: DbOrTx, rows: Awaited<ReturnType<typeof listReservationRows>>["rows"]): Promise<ReservationView[]> {
  const hosts = await listReservationHostRows(db, rows.map((r) => r.reservation.id));
  const names = await loadDeployNames(db, rows.map((r) => r.reservation.deploy));
  const groups = await listLatestGroupIdsOfReservations(db, rows.filter((r) => r.reservation.deploy).map((r) => r.reservation.id));
  return rows.map(({ reservation: r, userEmail, projectName, poolName }) => ({
    id: r.id,
    state: r.state,
    title: r.title,
    projectId: r.projectId,
    projectName,
    userId: r.userId,
    userEmail,
    poolId: r.poolId,
    poolName,
    count: r.count,
    criteria: r.criteria,
    startsAt: r.startsAt.toISOString(),
    endsAt: r.endsAt.toISOString(),
    prepareFrom: r.prepareFrom.toISOString(),
    hosts: hosts
      .filter((h) => h.reservationId === r.id)
      .map((h) => ({ id: h.hostId, name: h.name, state: h.state, chosenAt: h.chosenAt.toISOString(), replacedAt: h.replacedAt?.toISOString() ?? null, replacedReason: h.replacedReason })),
    deploySummary: describeDeploy(r.deploy, { image: r.deploy?.imageId ? names.get(r.deploy.imageId) : null, template: r.deploy?.systemTemplateId ? names.get(r.deploy.systemTemplateId) : null }),
    deploy: r.deploy,
    plan: r.plan,
    groupId: groups.get(r.id) ?? null,
    leaseId: r.leaseId,
    failureReason: r.failureReason,
    cancelledAt: r.cancelledAt?.toISOString() ?? null,
    createdAt: r.createdAt.toISOString(),
  }));
}

export async function getReservationView(db: DbOrTx, id: string): Promise<ReservationView> {
  const { rows } = await listReservationRows(db, { reservationId: id, limit: 1, offset: 0 });
  if (!rows.length) throw new AppError("not_found", "That reservation does not exist.");
  return (await toReservationViews(db, rows))[0]!;
}

/** GET /api/v1/reservations — the caller's reservations; `scope=all` (with filters) is for admins. */
export async function listReservations(db: Db, actor: Actor, query: unknown) {
  const q = parseInput(reservationListQuerySchema, query);
  if (!actor.user) throw new AppError("unauthorized", "Sign in to see reservations.");
  if (q.scope === "all") assertAdmin(actor, "Only administrators can list everyone's reservations.");
  const { rows, total } = await listReservationRows(db, {
    userId: q.scope === "mine" ? actor.user.id : undefined,
    poolId: q.poolId,
    state: q.state,
    from: q.from,
    to: q.to,
    limit: q.per_page,
    offset: (q.page - 1) * q.per_page,
  });
  return paginated(await toReservationViews(db, rows), q, total);
}

function assertVisible(actor: Actor, r: ReservationRow | undefined): ReservationRow {
  if (!r || !isOwnerOrAdmin(actor, r.userId)) throw new AppError("not_found", "That reservation does not exist.");
  return r;
}

/** GET /api/v1/reservations/:id — with its history (the audit trail of the reservation). */
export async function getReservation(db: Db, actor: Actor, id: string) {
  assertVisible(actor, await getReservationRow(db, id));
  const view = await getReservationView(db, id);
  const { rows } = await listAudit(db, { targetType: "reservation", targetId: id, limit: 200, offset: 0 });
  // Each host's latest run in the group, for the page's plan (the group page has the detail).
  const latest = new Map<string, { hostId: string; hostName: string; state: string }>();
  if (view.groupId) for (const run of await listGroupDeployments(db, view.groupId)) latest.set(run.hostId, { hostId: run.hostId, hostName: run.hostName, state: run.state });
  const readyRuns = [...latest.values()].sort((a, b) => a.hostName.localeCompare(b.hostName));
  return { ...view, readyRuns, history: rows.reverse().map((a) => ({ at: a.at.toISOString(), action: a.action, summary: a.summary, actorEmail: a.actorEmail })) };
}

/**
 * DELETE /api/v1/reservations/:id — its holder or an admin cancels it: before the start its
 * bookings are freed; once started, its lease is released too (hosts wiped, as any release).
 */
export async function cancelReservation(db: Db, actor: Actor, id: string, clock: Clock = {}): Promise<ReservationView> {
  const now = nowOf(clock);
  const leaseId = await db.transaction(async (tx) => {
    const r = assertVisible(actor, await getReservationRow(tx, id, { lock: true }));
    if (!["scheduled", "preparing", "active"].includes(r.state)) throw new AppError("conflict", `This reservation has already ${r.state === "cancelled" ? "been cancelled" : r.state}.`);
    await updateReservationRow(tx, id, { state: "cancelled", cancelledAt: now });
    await deleteReservationBookings(tx, { reservationId: id });
    const by = actor.user && actor.user.id !== r.userId ? ` by ${actor.user.email}` : "";
    await recordAudit(tx, actor, {
      action: "reservation.cancel",
      targetType: "reservation",
      targetId: id,
      summary: `cancelled${by} ${r.state === "scheduled" ? "before its start" : "while under way (its lease is released)"}`,
    });
    return r.state === "scheduled" ? null : r.leaseId;
  });
  if (leaseId) {
    try {
      await releaseLease(db, actor, leaseId, { now });
    } catch (e) {
      // Its lease ended a moment ago: nothing left to release.
      if (!(isAppError(e) && e.code === "conflict")) throw e;
    }
  }
  return getReservationView(db, id);
}

