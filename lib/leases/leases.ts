// One file: a lease's life (grant, extend, release, hand over) and the LeaseView each of them
// answers with; the grant's quota and race rules are most of it.
// Leases: a researcher's bounded claim on hosts, charged to a project. Grants are
// race-free (project row lock + SKIP LOCKED host picks + a unique index that forbids a
// host in two active leases) and all-or-nothing. Every function takes `now` so tests
// and the expiry job control the clock.
import { getPoolRow, countPoolHosts } from "@/db/queries/pools";
import { getMembership, lockProject } from "@/db/queries/projects";
import {
  getLeaseRow,
  insertLease,
  insertLeaseEvent,
  insertLeaseHosts,
  listLeaseEventRows,
  listLeaseHostRows,
  listLeaseRows,
  lockHosts,
  pickAvailableHosts,
  releaseLeaseHosts,
  updateLeaseRow,
} from "@/db/queries/leases";
import { getUserByEmail, getUserById } from "@/db/queries/users";
import type { LeaseRow, ProjectRow } from "@/db/schema";
import type { Db, DbOrTx } from "../db";
import type { Clock } from "../clock";
import { AppError } from "../errors";
import { assertAdmin, isOwnerOrAdmin, type Actor } from "../access/actor";
import { recordAudit } from "../audit/audit";
import { getUserStatus } from "../users/user-view";
import { hoursText, maxLeaseHours, resolveHolder, resolveProject } from "../projects/charging";
import { getFirstConflictAfter, getProjectPeakHosts } from "@/db/queries/reservations";
import { isExclusionViolation } from "@/db/errors";
import { getHostRowsByIds, insertHostEvents } from "@/db/queries/hosts";
import { transitionHostStates } from "../hosts/transition";
import { getProjectUsage, monthWindow } from "../projects/projects";
import { paginated } from "../validation/common";
import { leaseCreateSchema, leaseExtendSchema, leaseHandOverSchema, leaseListQuerySchema } from "../validation/leases";
import { parseInput } from "../validation/parse";
import { completeHostReleases } from "./release";
import { listReleaseWaits, releaseAdvice } from "../hosts/release-wait";
import { summarizeDeployments, type LatestDeploymentSummary } from "../deployments/views";
import { loadHostAccess, type HostAccess } from "../hosts/connection-info";
import { countForRefusal, hasHardwareCriteria, insufficientMessage, type LeaseCriteria } from "./hardware";
import { loadLeaseEnds, markReleaseStage, markReturnedIfBack, type LeaseEndView } from "./end-stage";
import { pickHardwareFilter } from "../validation/inventory";
import { endLeaseDisks } from "../extra-disks/extra-disks";
import { moveLeaseDisks } from "@/db/queries/lease-disks";

const HOUR = 3600_000;
const DEFAULT_DIRECT_LEASE_HOURS = 24;


export type LeaseView = {
  id: string;
  state: LeaseRow["state"];
  projectId: string;
  projectName: string;
  userId: string;
  userEmail: string;
  poolId: string | null;
  poolName: string | null;
  startsAt: string;
  endsAt: string;
  endedAt: string | null;
  /**
   * `run`: the host's latest provisioning run under this lease, while held (absent when none).
   * `releaseAdvice`: while held, what to do before releasing a machine Kiln cannot restart;
   * `releaseWait`: once released, what its wipe waits for (./release-wait.ts).
   * `access`: while held, the ssh line from the best routable address learned under this
   * lease (null when none yet); absent once released.
   */
  hosts: { id: string; name: string; state: string; releasedAt: string | null; run?: LatestDeploymentSummary; releaseAdvice?: string; releaseWait?: string; access?: HostAccess | null }[];
  /** The staged end: stage reached, grace, each stage's time, capture runs (./end-stage.ts). */
  end: LeaseEndView;
};

/** Hours of [start, end) that fall inside the quota month of `now`. */
function hoursInMonth(start: Date, end: Date, now: Date): number {
  const { from, to } = monthWindow(now);
  const s = Math.max(start.getTime(), from.getTime());
  const e = Math.min(end.getTime(), to.getTime());
  return Math.max(0, e - s) / HOUR;
}

async function assertQuotas(
  db: DbOrTx,
  project: ProjectRow,
  params: { addHosts: number; addNodeHours: number; now: Date; during?: { from: Date; to: Date } },
): Promise<void> {
  const usage = await getProjectUsage(db, project.id, { now: params.now });
  if (project.maxHosts !== null && usage.activeHosts + params.addHosts > project.maxHosts) {
    throw new AppError(
      "quota_exceeded",
      `Project ${project.name} may hold at most ${project.maxHosts} hosts at once; it holds ${usage.activeHosts} and this request needs ${params.addHosts} more.`,
      { quota: "maxHosts", limit: project.maxHosts, used: usage.activeHosts, requested: params.addHosts },
    );
  }
  if (project.maxNodeHoursPerMonth !== null && usage.nodeHoursThisMonth + params.addNodeHours > project.maxNodeHoursPerMonth + 1e-9) {
    throw new AppError(
      "quota_exceeded",
      `Project ${project.name} has ${project.maxNodeHoursPerMonth} node-hours per month; ${hoursText(usage.nodeHoursThisMonth)} are used or booked this month and this request needs ${hoursText(params.addNodeHours)} more.`,
      { quota: "maxNodeHoursPerMonth", limit: project.maxNodeHoursPerMonth, used: usage.nodeHoursThisMonth, requested: params.addNodeHours },
    );
  }
  if (project.maxHosts !== null && params.during) {
    // Hosts at once counts the project's reservations too: the peak of what it holds or has booked
    // while the new hosts would be held. After the two checks above, whose messages it keeps.
    const peak = await getProjectPeakHosts(db, { projectId: project.id, ...params.during });
    if (peak + params.addHosts > project.maxHosts) {
      throw new AppError(
        "quota_exceeded",
        `Project ${project.name} may hold at most ${project.maxHosts} hosts at once; with its reservations it holds or has booked up to ${peak} before this lease would end, and this request needs ${params.addHosts} more.`,
        { quota: "maxHosts", limit: project.maxHosts, used: peak, requested: params.addHosts },
      );
    }
  }
}

export async function createLease(db: Db, actor: Actor, input: unknown, clock: Clock = {}): Promise<LeaseView> {
  const data = parseInput(leaseCreateSchema, input);
  const now = clock.now ?? new Date();
  if (data.hostIds) assertAdmin(actor, "Only administrators allocate given hosts; ask for hosts from a pool instead.");
  const leaseId = await db.transaction(async (tx) => {
    const holder = await resolveHolder(tx, actor, data.userId);
    const projectId = await resolveProject(tx, holder, data.projectId);
    const project = (await lockProject(tx, projectId))!;
    const pool = data.poolId ? await getPoolRow(tx, data.poolId) : undefined;
    if (data.poolId && !pool) throw AppError.field("poolId", "That pool does not exist.");

    const max = maxLeaseHours(pool, project);
    const hours = data.durationHours ?? Math.min(pool?.defaultLeaseHours ?? DEFAULT_DIRECT_LEASE_HOURS, max.hours ?? Infinity);
    if (max.hours !== null && hours > max.hours) {
      throw new AppError("quota_exceeded", `${max.source} allows leases of at most ${hoursText(max.hours)}; you asked for ${hoursText(hours)}.`, {
        quota: "maxLeaseHours",
        limit: max.hours,
        requested: hours,
      });
    }
    const count = data.hostIds ? new Set(data.hostIds).size : data.count;
    const endsAt = new Date(now.getTime() + hours * HOUR);
    await assertQuotas(tx, project, { addHosts: count, addNodeHours: count * hoursInMonth(now, endsAt, now), now, during: { from: now, to: endsAt } });

    let hostIds: string[];
    if (pool) {
      const size = await countPoolHosts(tx, pool.id);
      if (count > size) throw AppError.field("count", `Pool ${pool.name} has ${size} host${size === 1 ? "" : "s"} in all; you asked for ${count}.`);
      const criteria: LeaseCriteria = { tags: data.tags, ...pickHardwareFilter(data) };
      const picked = await pickAvailableHosts(tx, { poolId: pool.id, count, ...criteria, during: { from: now, to: endsAt } });
      if (picked.length < count && hasHardwareCriteria(criteria)) {
        const counts = await countForRefusal(tx, { poolId: pool.id, criteria, picked: picked.length });
        throw new AppError("insufficient_capacity", insufficientMessage({ poolName: pool.name, requested: count, ...counts }), {
          available: picked.length,
          requested: count,
          free: counts.free,
          withoutFacts: counts.withoutFacts,
          criteria: counts.criteria,
        });
      }
      if (picked.length < count) {
        // What this request could take, not a count of rows still marked available: those
        // include hosts that concurrent grants hold locked and are about to lease.
        const free = picked.length;
        const what = data.tags.length ? `tags ${data.tags.join(", ")}` : "";
        throw new AppError(
          "insufficient_capacity",
          free === 0
            ? `No host available in pool ${pool.name}${what ? ` with ${what}` : ""} right now. Nothing was leased.`
            : `Only ${free} host${free === 1 ? "" : "s"} available in pool ${pool.name}${what ? ` with ${what}` : ""} right now; you asked for ${count}. Nothing was leased.`,
          { available: free, requested: count },
        );
      }
      hostIds = picked.map((h) => h.id);
    } else {
      const ids = [...new Set(data.hostIds!)];
      const locked = await lockHosts(tx, ids);
      if (locked.length !== ids.length) throw AppError.field("hostIds", "One of these hosts does not exist.");
      const busy = locked.find((h) => h.state !== "available");
      if (busy) throw new AppError("conflict", `Host ${busy.name} is ${busy.state}, not available. Nothing was leased.`);
      const taken = await getFirstConflictAfter(tx, { hostIds: ids, from: now, to: endsAt });
      if (taken) throw new AppError("conflict", `${describeConflict(taken)}; a lease of it must end before then. Nothing was leased.`, { at: taken.at.toISOString() });
      hostIds = ids;
    }

    const lease = await insertLease(tx, {
      projectId,
      userId: holder.id,
      createdByUserId: actor.user?.id ?? null,
      poolId: pool?.id ?? null,
      startsAt: now,
      endsAt,
    });
    try {
      await insertLeaseHosts(tx, lease.id, hostIds, now);
    } catch (e) {
      // The lease's bookings (a trigger) met a reservation admitted since the hosts were picked.
      if (isExclusionViolation(e)) throw new AppError("conflict", "A reservation has just taken one of these hosts for part of this time. Nothing was leased; please try again.");
      throw e;
    }
    const hosts = await transitionHostStates(tx, { hostIds, to: "leased", actorUserId: actor.user?.id ?? null, leaseId: lease.id, message: `leased to ${holder.email}`, at: now });
    const names = hosts.map((h) => h.name).sort();
    await insertLeaseEvent(tx, {
      leaseId: lease.id,
      at: now,
      actorUserId: actor.user?.id ?? null,
      kind: "created",
      message: `${names.join(", ")} leased to ${holder.email} until ${endsAt.toISOString()}`,
      data: { hostIds, hours, direct: Boolean(data.hostIds) },
    });
    await recordAudit(tx, actor, {
      action: "lease.create",
      targetType: "lease",
      targetId: lease.id,
      summary: `leased ${names.join(", ")} to ${holder.email} in ${project.name} for ${hoursText(hours)}`,
      data: { hostIds, projectId, poolId: pool?.id ?? null, hours },
    });
    return lease.id;
  });
  return getLeaseView(db, leaseId);
}

function utcText(d: Date): string {
  return `${d.toISOString().replace("T", " ").slice(0, 16)} UTC`;
}

/** "Host n-03 is reserved by project X from 2026-12-08 09:00 UTC": whose time it is (the project, never the person). */
function describeConflict(c: NonNullable<Awaited<ReturnType<typeof getFirstConflictAfter>>>): string {
  if (c.kind === "maintenance") return `${c.hostName ? `Host ${c.hostName}` : `Pool ${c.poolName}`} is under maintenance from ${utcText(c.at)}`;
  return `Host ${c.hostName} is ${c.reservation ? "reserved" : "leased"} by project ${c.projectName} from ${utcText(c.at)}`;
}

/** A lease the actor may act on: its holder, or an admin. Anyone else gets 404. */
async function getLeaseForUpdate(tx: DbOrTx, actor: Actor, leaseId: string): Promise<LeaseRow> {
  const lease = await getLeaseRow(tx, leaseId, { lock: true });
  if (!lease || !isOwnerOrAdmin(actor, lease.userId)) throw new AppError("not_found", "That lease does not exist.");
  if (lease.state !== "active") throw new AppError("conflict", `This lease has already ${lease.state === "expired" ? "expired" : "been released"}.`);
  return lease;
}

export async function extendLease(db: Db, actor: Actor, leaseId: string, input: unknown, clock: Clock = {}): Promise<LeaseView> {
  const data = parseInput(leaseExtendSchema, input);
  const now = clock.now ?? new Date();
  await db.transaction(async (tx) => {
    const first = await getLeaseRow(tx, leaseId);
    if (!first || !isOwnerOrAdmin(actor, first.userId)) throw new AppError("not_found", "That lease does not exist.");
    // Same lock order as createLease (project, then lease) so the two cannot deadlock.
    const project = (await lockProject(tx, first.projectId))!;
    const lease = await getLeaseForUpdate(tx, actor, leaseId);
    const pool = lease.poolId ? await getPoolRow(tx, lease.poolId) : undefined;
    const newEnd = new Date(lease.endsAt.getTime() + data.hours * HOUR);
    const total = (newEnd.getTime() - lease.startsAt.getTime()) / HOUR;
    const max = maxLeaseHours(pool, project);
    if (max.hours !== null && total > max.hours) {
      throw new AppError(
        "quota_exceeded",
        `${max.source} allows leases of at most ${hoursText(max.hours)}; extending by ${hoursText(data.hours)} would make this one ${hoursText(total)} long.`,
        { quota: "maxLeaseHours", limit: max.hours, requested: total },
      );
    }
    const held = (await listLeaseHostRows(tx, [leaseId])).filter((h) => !h.releasedAt);
    const activeHosts = held.length;
    await assertQuotas(tx, project, { addHosts: 0, addNodeHours: activeHosts * hoursInMonth(lease.endsAt, newEnd, now), now });
    // Never into time promised to someone else: say whose, and how far it can go instead.
    const taken = await getFirstConflictAfter(tx, { leaseId, hostIds: held.map((h) => h.hostId), from: lease.endsAt, to: newEnd });
    if (taken) {
      const room = (taken.at.getTime() - lease.endsAt.getTime()) / HOUR;
      const instead = room >= 0.1 ? `it can be extended until ${utcText(taken.at)} (by ${hoursText(room)}) at most` : "it cannot be extended";
      throw new AppError("conflict", `${describeConflict(taken)}; extending to ${utcText(newEnd)} would take that time, so ${instead}.`, {
        until: taken.at.toISOString(),
        ...(taken.kind === "booking" ? { projectName: taken.projectName } : {}),
      });
    }
    try {
      await updateLeaseRow(tx, leaseId, { endsAt: newEnd, remindersSent: [] });
    } catch (e) {
      if (isExclusionViolation(e)) throw new AppError("conflict", "Someone has just booked one of these hosts after this lease's end; it cannot be extended that far. Please try a shorter extension.");
      throw e;
    }
    await insertLeaseEvent(tx, { leaseId, at: now, actorUserId: actor.user?.id ?? null, kind: "extended", message: `extended by ${hoursText(data.hours)} to ${newEnd.toISOString()}`, data: { hours: data.hours, from: lease.endsAt.toISOString(), to: newEnd.toISOString() } });
    await recordAudit(tx, actor, { action: "lease.extend", targetType: "lease", targetId: leaseId, summary: `extended lease by ${hoursText(data.hours)}`, data: { hours: data.hours } });
  });
  return getLeaseView(db, leaseId);
}

/**
 * Ends a lease: its hosts go leased → releasing (where provisioning will power them off
 * and wipe them), then to available. `reason` is "released" (early, by a person) or
 * "expired" (by the expiry job, as the system).
 */
export async function releaseLease(db: Db, actor: Actor, leaseId: string, clock: Clock & { reason?: "released" | "expired" } = {}): Promise<LeaseView> {
  const now = clock.now ?? new Date();
  const reason = clock.reason ?? "released";
  const hostIds = await db.transaction(async (tx) => {
    const lease = await getLeaseForUpdate(tx, actor, leaseId);
    const released = await releaseLeaseHosts(tx, { leaseId, at: now });
    await updateLeaseRow(tx, leaseId, { state: reason, endedAt: now });
    const hosts = await transitionHostStates(tx, { hostIds: released, to: "releasing", actorUserId: actor.user?.id ?? null, leaseId, message: reason === "expired" ? "lease expired" : "lease released", at: now });
    const by = actor.user && actor.user.id !== lease.userId ? ` by ${actor.user.email}` : "";
    await insertLeaseEvent(tx, { leaseId, at: now, actorUserId: actor.user?.id ?? null, kind: reason, message: `${reason}${by}: ${hosts.map((h) => h.name).sort().join(", ")}` });
    // The staged end (./staged-end.ts): wait for captures under way, or power off and wipe now.
    await markReleaseStage(tx, lease, { at: now, actorUserId: actor.user?.id ?? null, hostNames: hosts.map((h) => h.name).sort() });
    await recordAudit(tx, actor, { action: reason === "expired" ? "lease.expire" : "lease.release", targetType: "lease", targetId: leaseId, summary: `${reason} lease of ${hosts.map((h) => h.name).sort().join(", ")}${by}` });
    return released;
  });
  await completeHostReleases(db, hostIds, { leaseId, now });
  // Its extra disks: exports stopped, files deleted (by the worker; its reconciler also finds them if this is lost).
  await endLeaseDisks(db, leaseId, { now });
  // Hosts not wiped (manual power) are back at once: the lease's end is over.
  await markReturnedIfBack(db, leaseId, now);
  return getLeaseView(db, leaseId);
}

/**
 * Hands a lease, or one host of it, to another member of the same project (MOCAS:
 * "allocate to others what you own"). One host of several is split into a new lease with
 * the same end; the host stays leased throughout.
 */
export async function handOverLease(db: Db, actor: Actor, leaseId: string, input: unknown, clock: Clock = {}): Promise<LeaseView> {
  const data = parseInput(leaseHandOverSchema, input);
  const now = clock.now ?? new Date();
  const resultId = await db.transaction(async (tx) => {
    const lease = await getLeaseForUpdate(tx, actor, leaseId);
    const target = data.toUserId ? await getUserById(tx, data.toUserId) : await getUserByEmail(tx, data.toEmail!);
    // A refusal names the person only as the caller did: someone who knows only a user id must
    // not learn that person's email (or whether the id is an account at all) from it.
    const field = data.toUserId ? "toUserId" : "toEmail";
    const notEligibleById = `User ${data.toUserId} is not an active member of this lease's project; only members can receive its machines.`;
    if (!target || getUserStatus(target) !== "active") throw AppError.field(field, data.toUserId ? notEligibleById : "No active Kiln account has that email.");
    if (target.id === lease.userId) throw AppError.field(field, "That person already holds this lease.");
    if (!(await getMembership(tx, { projectId: lease.projectId, userId: target.id }))) {
      throw AppError.field(field, data.toUserId ? notEligibleById : `${data.toEmail} is not a member of this lease's project; only members can receive its machines.`);
    }
    const active = (await listLeaseHostRows(tx, [leaseId])).filter((h) => !h.releasedAt);
    const whole = !data.hostId || active.length === 1;
    if (data.hostId && !active.some((h) => h.hostId === data.hostId)) throw AppError.field("hostId", "That host is not in this lease.");
    const from = (await getUserById(tx, lease.userId))!;
    if (whole) {
      await updateLeaseRow(tx, leaseId, { userId: target.id, remindersSent: [] });
      await insertLeaseEvent(tx, { leaseId, at: now, actorUserId: actor.user?.id ?? null, kind: "handed_over", message: `handed over from ${from.email} to ${target.email}`, data: { from: from.id, to: target.id } });
      await insertHostEvents(tx, active.map((h) => ({ hostId: h.hostId, at: now, kind: "handed_over", actorUserId: actor.user?.id ?? null, leaseId, message: `handed over from ${from.email} to ${target.email}` })));
      await recordAudit(tx, actor, { action: "lease.handover", targetType: "lease", targetId: leaseId, summary: `handed lease over from ${from.email} to ${target.email}` });
      return leaseId;
    }
    const host = active.find((h) => h.hostId === data.hostId)!;
    await releaseLeaseHosts(tx, { leaseId, hostIds: [host.hostId], at: now });
    const split = await insertLease(tx, { projectId: lease.projectId, userId: target.id, createdByUserId: actor.user?.id ?? null, poolId: lease.poolId, startsAt: now, endsAt: lease.endsAt });
    await insertLeaseHosts(tx, split.id, [host.hostId], now);
    // The machine keeps its extra disks: same project, and the new holder now has the host.
    await moveLeaseDisks(tx, { hostId: host.hostId, fromLeaseId: leaseId, toLeaseId: split.id });
    await insertLeaseEvent(tx, { leaseId, at: now, actorUserId: actor.user?.id ?? null, kind: "handed_over", message: `${host.name} handed over to ${target.email}`, data: { hostId: host.hostId, newLeaseId: split.id } });
    await insertLeaseEvent(tx, { leaseId: split.id, at: now, actorUserId: actor.user?.id ?? null, kind: "created", message: `${host.name} received from ${from.email}`, data: { fromLeaseId: leaseId } });
    await insertHostEvents(tx, [{ hostId: host.hostId, at: now, kind: "handed_over", actorUserId: actor.user?.id ?? null, leaseId: split.id, message: `handed over from ${from.email} to ${target.email}` }]);
    await recordAudit(tx, actor, { action: "lease.handover", targetType: "lease", targetId: leaseId, summary: `handed ${host.name} from ${from.email} to ${target.email}`, data: { newLeaseId: split.id } });
    return split.id;
  });
  return getLeaseView(db, resultId);
}

async function toLeaseViews(db: DbOrTx, rows: Awaited<ReturnType<typeof listLeaseRows>>["rows"]): Promise<LeaseView[]> {
  const hosts = await listLeaseHostRows(db, rows.map((r) => r.lease.id));
  const runs = await summarizeDeployments(db, hosts.filter((h) => !h.releasedAt).map((h) => ({ hostId: h.hostId, leaseId: h.leaseId })));
  // Power drivers only for the hosts whose notes can apply: held ones, and released ones still releasing.
  const hostRows = await getHostRowsByIds(db, [...new Set(hosts.filter((h) => !h.releasedAt || h.state === "releasing").map((h) => h.hostId))]);
  const byId = new Map(hostRows.map((h) => [h.id, h]));
  const waits = await listReleaseWaits(db, hostRows.filter((h) => h.state === "releasing"));
  // The ssh line of every held host of the page in one go (two queries, whatever the count).
  // Scoped to each host's lease: an address seen before it joined belongs to a former holder's system.
  const held = hosts.filter((h) => !h.releasedAt);
  const access = await loadHostAccess(db, { hostIds: held.map((h) => h.hostId), leaseOf: new Map(held.map((h) => [h.hostId, h.leaseId])) });
  const ends = await loadLeaseEnds(db, rows.map((r) => r.lease));
  return rows.map(({ lease, userEmail, projectName, poolName }) => ({
    id: lease.id,
    state: lease.state,
    projectId: lease.projectId,
    projectName,
    userId: lease.userId,
    userEmail,
    poolId: lease.poolId,
    poolName,
    startsAt: lease.startsAt.toISOString(),
    endsAt: lease.endsAt.toISOString(),
    endedAt: lease.endedAt?.toISOString() ?? null,
    hosts: hosts
      .filter((h) => h.leaseId === lease.id)
      .map((h) => {
        const run = !h.releasedAt ? runs.get(h.hostId) : undefined;
        const row = byId.get(h.hostId);
        const advice = !h.releasedAt && row ? releaseAdvice(row) : null;
        const w = h.releasedAt ? waits.get(h.hostId) : undefined;
        const wait = w && w.leaseId === h.leaseId ? w.message : undefined;
        const ssh = !h.releasedAt ? { access: access.get(h.hostId)?.access ?? null } : {};
        return { id: h.hostId, name: h.name, state: h.state, releasedAt: h.releasedAt?.toISOString() ?? null, ...(run ? { run } : {}), ...(advice ? { releaseAdvice: advice } : {}), ...(wait ? { releaseWait: wait } : {}), ...ssh };
      }),
    end: ends.get(lease.id)!,
  }));
}

async function getLeaseView(db: DbOrTx, leaseId: string): Promise<LeaseView> {
  const { rows } = await listLeaseRows(db, { leaseId, limit: 1, offset: 0 });
  return (await toLeaseViews(db, rows))[0]!;
}

/** A researcher lists their own leases; `scope=all` (with filters) is for admins. */
export async function listLeases(db: Db, actor: Actor, query: unknown) {
  const q = parseInput(leaseListQuerySchema, query);
  if (q.scope === "all") assertAdmin(actor, "Only administrators can list everyone's leases.");
  const { rows, total } = await listLeaseRows(db, {
    userId: q.scope === "mine" ? actor.user!.id : q.userId,
    projectId: q.projectId,
    hostId: q.hostId,
    state: q.state,
    limit: q.per_page,
    offset: (q.page - 1) * q.per_page,
  });
  return paginated(await toLeaseViews(db, rows), q, total);
}

export async function getLease(db: Db, actor: Actor, leaseId: string) {
  const lease = await getLeaseRow(db, leaseId);
  if (!lease || !isOwnerOrAdmin(actor, lease.userId)) throw new AppError("not_found", "That lease does not exist.");
  const view = await getLeaseView(db, leaseId);
  const events = await listLeaseEventRows(db, leaseId);
  return {
    ...view,
    events: events.map(({ event, actorEmail }) => ({ at: event.at.toISOString(), kind: event.kind, message: event.message, actorEmail })),
  };
}
