import { deleteHostRow, findTakenMacs, getActiveLeaseOfHost, getHostRow, insertHost, insertHostEvents, listHostEvents, listHostLeases, listHostRows, listInterfaces, replaceInterfaces, updateHostRow, type InterfaceRow } from "@/db/queries/hosts";
import { findHostByPiSerial } from "@/db/queries/pi";
import { getPoolRow } from "@/db/queries/pools";
import { deleteHostPower } from "@/db/queries/power";
import { isForeignKeyViolation, isUniqueViolation } from "@/db/errors";
import type { HostRow } from "@/db/schema";
import type { Db, DbOrTx } from "../db";
import { AppError } from "../errors";
import { assertAdmin, isAdmin, type Actor } from "../access/actor";
import { recordAudit } from "../audit/audit";
import { openJson, sealJson } from "../crypto/secret-box";
import { listLeaseIdsOfUser } from "@/db/queries/leases";
import { paginated } from "../validation/common";
import { hostAcceptSchema, hostBulkSchema, hostCreateSchema, hostListQuerySchema, hostStateChangeSchema, hostUpdateSchema, pickHardwareFilter } from "../validation/inventory";
import { parseInput } from "../validation/parse";
import { transitionHostStates } from "./transition";
import { listReleaseWaits, type ReleaseWait } from "./release-wait";
import { moveHostToSite } from "../sites/sites";
import { loadHostAccess } from "./connection-info";

export type HostView = {
  id: string;
  name: string;
  state: HostRow["state"];
  poolId: string | null;
  poolName?: string | null;
  siteId: string;
  tags: string[];
  cpuCores: number | null;
  memoryMb: number | null;
  disks: HostRow["disks"];
  facts: HostRow["facts"];
  interfaces: { mac: string; name: string; isPxe: boolean }[];
  notes: string;
  power?: { driver: string; params: Record<string, unknown>; secretsSet: string[] };
  hostnameHint: string | null;
  arch: HostRow["arch"];
  piSerial: string | null;
  firstSeenAt: string | null;
  lastSeenAt: string | null;
  stateChangedAt: string;
  lease?: { id: string; holderEmail: string | null; endsAt: string | null } | null;
  /** Set while the wipe at a lease's end waits for someone to restart the machine (Kiln cannot: Wake-on-LAN, manual). */
  releaseWait?: ReleaseWait | null;
};

function toHostView(h: HostRow, ifaces: InterfaceRow[], opts: { isAdmin: boolean; poolName?: string | null }): HostView {
  return {
    id: h.id,
    name: h.name,
    state: h.state,
    poolId: h.poolId,
    poolName: opts.poolName,
    siteId: h.siteId,
    tags: h.tags,
    cpuCores: h.cpuCores,
    memoryMb: h.memoryMb,
    disks: h.disks,
    facts: h.facts,
    interfaces: ifaces.filter((i) => i.hostId === h.id).map((i) => ({ mac: i.mac, name: i.name, isPxe: i.isPxe })),
    notes: h.notes,
    // Power settings are for admins; secrets are never sent back, only which ones are set.
    power: opts.isAdmin
      ? { driver: h.powerDriver, params: h.powerParams, secretsSet: secretNames(h.powerSecrets) }
      : undefined,
    hostnameHint: h.hostnameHint,
    arch: h.arch,
    piSerial: h.piSerial,
    firstSeenAt: h.firstSeenAt?.toISOString() ?? null,
    lastSeenAt: h.lastSeenAt?.toISOString() ?? null,
    stateChangedAt: h.stateChangedAt.toISOString(),
  };
}

function secretNames(sealed: string | null): string[] {
  if (!sealed) return [];
  try {
    return Object.keys(openJson<Record<string, string>>(sealed));
  } catch {
    return ["(unreadable: KILN_SECRET_KEY changed?)"];
  }
}

async function assertMacsFree(db: DbOrTx, macs: string[], exceptHostId?: string): Promise<void> {
  const taken = await findTakenMacs(db, macs, exceptHostId);
  if (taken[0]) throw AppError.field("interfaces", `MAC ${taken[0].mac} already belongs to host ${taken[0].hostName}.`);
}

async function assertPoolExists(db: DbOrTx, poolId: string | null | undefined): Promise<void> {
  if (poolId && !(await getPoolRow(db, poolId))) throw AppError.field("poolId", "That pool does not exist.");
}

const ADMIN_ONLY = "Only administrators can change hosts.";

function mapHostWriteError(e: unknown, name?: string): never {
  if (isUniqueViolation(e, "hosts_name_key")) throw AppError.field("name", `A host named ${name} already exists.`);
  if (isUniqueViolation(e, "host_interfaces_mac_key")) throw AppError.field("interfaces", "One of these MAC addresses already belongs to another host.");
  throw e;
}

export async function createHost(db: Db, actor: Actor, input: unknown): Promise<HostView> {
  assertAdmin(actor, ADMIN_ONLY);
  const data = parseInput(hostCreateSchema, input);
  try {
    return await db.transaction(async (tx) => {
      await assertPoolExists(tx, data.poolId);
      await assertMacsFree(tx, data.interfaces.map((i) => i.mac));
      const interfaces = data.interfaces.some((i) => i.isPxe) ? data.interfaces : data.interfaces.map((i, n) => ({ ...i, isPxe: n === 0 }));
      const host = await insertHost(tx, {
        name: data.name,
        state: data.state,
        poolId: data.poolId ?? null,
        tags: data.tags,
        cpuCores: data.cpuCores ?? null,
        memoryMb: data.memoryMb ?? null,
        disks: data.disks ?? [],
        notes: data.notes,
        powerDriver: data.power?.driver ?? "manual",
        powerParams: data.power?.params ?? {},
        powerSecrets: data.power?.secrets && Object.keys(data.power.secrets).length ? sealJson(data.power.secrets) : null,
      });
      await replaceInterfaces(tx, host.id, interfaces);
      await insertHostEvents(tx, [{ hostId: host.id, kind: "created", toState: host.state, actorUserId: actor.user?.id ?? null, message: "added by an administrator" }]);
      await recordAudit(tx, actor, { action: "host.create", targetType: "host", targetId: host.id, summary: `created host ${host.name}`, data: { macs: interfaces.map((i) => i.mac) } });
      return toHostView(host, await listInterfaces(tx, [host.id]), { isAdmin: true });
    });
  } catch (e) {
    mapHostWriteError(e, data.name);
  }
}

export async function updateHost(db: Db, actor: Actor, hostId: string, input: unknown): Promise<HostView> {
  const admin = assertAdmin(actor, ADMIN_ONLY);
  const data = parseInput(hostUpdateSchema, input);
  try {
    return await db.transaction(async (tx) => {
      const before = await getHostRow(tx, hostId);
      if (!before) throw new AppError("not_found", "That host does not exist.");
      if (data.poolId !== undefined) await assertPoolExists(tx, data.poolId);
      if (data.piSerial) {
        const other = await findHostByPiSerial(tx, data.piSerial);
        if (other && other.id !== hostId) throw AppError.field("piSerial", `Serial ${data.piSerial} already belongs to host ${other.name}.`);
      }
      if (data.interfaces) {
        await assertMacsFree(tx, data.interfaces.map((i) => i.mac), hostId);
        await replaceInterfaces(tx, hostId, data.interfaces.some((i) => i.isPxe) ? data.interfaces : data.interfaces.map((i, n) => ({ ...i, isPxe: n === 0 })));
      }
      // A move between sites has its own timeline entry and audit ("host.site").
      if (data.siteId !== undefined) await moveHostToSite(tx, admin, before, data.siteId);
      const host = (await updateHostRow(tx, hostId, {
        ...(data.name !== undefined ? { name: data.name } : {}),
        ...(data.poolId !== undefined ? { poolId: data.poolId } : {}),
        ...(data.tags !== undefined ? { tags: data.tags } : {}),
        ...(data.cpuCores !== undefined ? { cpuCores: data.cpuCores } : {}),
        ...(data.memoryMb !== undefined ? { memoryMb: data.memoryMb } : {}),
        ...(data.disks !== undefined ? { disks: data.disks } : {}),
        ...(data.notes !== undefined ? { notes: data.notes } : {}),
        ...(data.arch !== undefined ? { arch: data.arch } : {}),
        ...(data.piSerial !== undefined ? { piSerial: data.piSerial } : {}),
        ...(data.power
          ? {
              powerDriver: data.power.driver,
              powerParams: data.power.params,
              // Secrets left out keep their sealed value; an empty object clears them.
              ...(data.power.secrets !== undefined ? { powerSecrets: Object.keys(data.power.secrets).length ? sealJson(data.power.secrets) : null } : {}),
            }
          : {}),
      }))!;
      // A reading taken through the old settings says nothing about the new ones.
      if (data.power) await deleteHostPower(tx, hostId);
      const changed = Object.keys(data).filter((k) => k !== "siteId");
      if (changed.length || data.siteId === undefined) {
        await insertHostEvents(tx, [{ hostId, kind: "updated", actorUserId: actor.user?.id ?? null, message: `changed ${changed.join(", ")}` }]);
        await recordAudit(tx, actor, { action: "host.update", targetType: "host", targetId: hostId, summary: `updated host ${host.name}: ${changed.join(", ")}`, data: { fields: changed } });
      }
      return toHostView(host, await listInterfaces(tx, [hostId]), { isAdmin: true });
    });
  } catch (e) {
    mapHostWriteError(e, data.name);
  }
}

export async function deleteHost(db: Db, actor: Actor, hostId: string): Promise<void> {
  assertAdmin(actor, ADMIN_ONLY);
  try {
    await db.transaction(async (tx) => {
      const host = await getHostRow(tx, hostId);
      if (!host) throw new AppError("not_found", "That host does not exist.");
      if (host.state === "leased") throw new AppError("conflict", `Host ${host.name} is leased; release its lease before deleting it.`);
      await deleteHostRow(tx, hostId);
      await recordAudit(tx, actor, { action: "host.delete", targetType: "host", targetId: hostId, summary: `deleted host ${host.name}` });
    });
  } catch (e) {
    if (isForeignKeyViolation(e)) throw new AppError("conflict", "This host has lease history, which must be kept; put it in maintenance instead of deleting it.");
    throw e;
  }
}

/** Admin state changes: maintenance, broken, back to available, accept (new → available). */
export async function changeHostState(db: Db, actor: Actor, hostId: string, input: unknown): Promise<HostView> {
  assertAdmin(actor, ADMIN_ONLY);
  const data = parseInput(hostStateChangeSchema, input);
  if (data.state === "leased" || data.state === "releasing") {
    throw AppError.field("state", "Hosts become leased and releasing through leases, not by hand. Create or release a lease instead.");
  }
  return db.transaction(async (tx) => {
    const [changed] = await transitionHostStates(tx, { hostIds: [hostId], to: data.state, actorUserId: actor.user?.id ?? null, message: data.reason });
    await recordAudit(tx, actor, { action: "host.state", targetType: "host", targetId: hostId, summary: `host ${changed!.name}: ${changed!.oldState} → ${data.state}${data.reason ? ` (${data.reason})` : ""}` });
    const host = (await getHostRow(tx, hostId))!;
    return toHostView(host, await listInterfaces(tx, [hostId]), { isAdmin: true });
  });
}

/** Accepts a discovered host: new → available, optionally renamed and placed in a pool. */
export async function acceptHost(db: Db, actor: Actor, hostId: string, input: unknown): Promise<HostView> {
  assertAdmin(actor, ADMIN_ONLY);
  const data = parseInput(hostAcceptSchema, input);
  try {
    return await db.transaction(async (tx) => {
      await assertPoolExists(tx, data.poolId);
      const [changed] = await transitionHostStates(tx, { hostIds: [hostId], to: "available", actorUserId: actor.user?.id ?? null, message: "accepted" });
      if (changed!.oldState !== "new") throw new AppError("conflict", `Host ${changed!.name} was already accepted.`);
      const host = (await updateHostRow(tx, hostId, { ...(data.name ? { name: data.name } : {}), ...(data.poolId !== undefined ? { poolId: data.poolId } : {}) }))!;
      await recordAudit(tx, actor, { action: "host.accept", targetType: "host", targetId: hostId, summary: `accepted host ${host.name}` });
      return toHostView(host, await listInterfaces(tx, [hostId]), { isAdmin: true });
    });
  } catch (e) {
    mapHostWriteError(e, data.name);
  }
}

/** Bulk: move to a pool, put in maintenance, make available, accept. All or nothing. */
export async function bulkUpdateHosts(db: Db, actor: Actor, input: unknown): Promise<{ updated: number }> {
  assertAdmin(actor, ADMIN_ONLY);
  const data = parseInput(hostBulkSchema, input);
  const ids = [...new Set(data.hostIds)];
  return db.transaction(async (tx) => {
    if (data.action === "move_to_pool") {
      await assertPoolExists(tx, data.poolId);
      for (const id of ids) if (!(await updateHostRow(tx, id, { poolId: data.poolId ?? null }))) throw new AppError("not_found", "One of the selected hosts does not exist.");
      await insertHostEvents(tx, ids.map((hostId) => ({ hostId, kind: "updated", actorUserId: actor.user?.id ?? null, message: "moved to another pool" })));
    } else {
      const to = data.action === "maintenance" ? "maintenance" : "available";
      await transitionHostStates(tx, { hostIds: ids, to, actorUserId: actor.user?.id ?? null, message: `bulk ${data.action}` });
    }
    await recordAudit(tx, actor, { action: `host.bulk.${data.action}`, targetType: "host", summary: `${data.action} on ${ids.length} hosts`, data: { hostIds: ids, poolId: data.poolId ?? null } });
    return { updated: ids.length };
  });
}

/** Admins list every host; a researcher lists the hosts they hold. */
export async function listHosts(db: Db, actor: Actor, query: unknown) {
  const q = parseInput(hostListQuerySchema, query);
  const admin = isAdmin(actor);
  const { rows, total } = await listHostRows(db, {
    q: q.q,
    state: q.state,
    poolId: q.pool,
    siteId: q.site,
    tag: q.tag,
    sort: q.sort,
    order: q.order,
    limit: q.per_page,
    offset: (q.page - 1) * q.per_page,
    heldBy: admin ? undefined : actor.user!.id,
    hardware: pickHardwareFilter(q),
  });
  const ifaces = await listInterfaces(db, rows.map((r) => r.host.id));
  const waits = await listReleaseWaits(db, rows.map((r) => r.host));
  // A researcher's rows are the hosts they hold: their lease's runs only.
  const access = await loadHostAccess(db, { hostIds: rows.map((r) => r.host.id), leaseOf: admin ? undefined : new Map(rows.flatMap((r) => (r.leaseId ? [[r.host.id, r.leaseId] as const] : []))) });
  const data = rows.map((r) => ({
    ...toHostView(r.host, ifaces, { isAdmin: admin, poolName: r.poolName }),
    lease: r.leaseId ? { id: r.leaseId, holderEmail: r.holderEmail, endsAt: r.leaseEndsAt?.toISOString() ?? null } : null,
    releaseWait: waits.get(r.host.id) ?? null,
    ...access.get(r.host.id)!,
  }));
  return paginated(data, q, total);
}

/**
 * A host with its history. Admins see everything; a researcher sees a host only while
 * holding it, and then only their own leases of it. Anyone else gets 404, not 403,
 * so host ids reveal nothing.
 */
export async function getHostDetail(db: Db, actor: Actor, hostId: string) {
  const host = await getHostRow(db, hostId);
  const admin = isAdmin(actor);
  const active = host ? await getActiveLeaseOfHost(db, hostId) : undefined;
  if (!host || (!admin && active?.userId !== actor.user!.id)) throw new AppError("not_found", "That host does not exist.");
  const ifaces = await listInterfaces(db, [hostId]);
  const pool = host.poolId ? await getPoolRow(db, host.poolId) : undefined;
  const userId = admin ? undefined : actor.user!.id;
  const [leaseHistory, events] = await Promise.all([
    listHostLeases(db, { hostId, userId, limit: 100 }),
    listHostEvents(db, { hostId, limit: 200, onlyLeaseIds: admin ? undefined : await listLeaseIdsOfUser(db, actor.user!.id) }),
  ]);
  const releaseWait = (await listReleaseWaits(db, [host])).get(host.id) ?? null;
  // Addresses, ssh line and deploy status: for admins and the holder (checked above); the holder sees their lease's runs only.
  const access = (await loadHostAccess(db, { hostIds: [hostId], leaseOf: admin || !active ? undefined : new Map([[hostId, active.leaseId]]) })).get(hostId)!;
  return {
    host: { ...toHostView(host, ifaces, { isAdmin: admin, poolName: pool?.name ?? null }), lease: active ? { id: active.leaseId, holderEmail: null, endsAt: active.endsAt.toISOString() } : null, releaseWait, ...access },
    leases: leaseHistory.map((l) => ({ ...l, addedAt: l.addedAt.toISOString(), releasedAt: l.releasedAt?.toISOString() ?? null, endsAt: l.endsAt.toISOString() })),
    events: events.map(({ event, actorEmail }) => ({
      at: event.at.toISOString(),
      kind: event.kind,
      fromState: event.fromState,
      toState: event.toState,
      message: event.message,
      actorEmail,
      leaseId: event.leaseId,
    })),
  };
}

