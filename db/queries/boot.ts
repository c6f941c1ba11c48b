import { and, desc, eq, inArray, isNull, sql } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { deployments, hostBootSettings, hostInterfaces, hosts, hostVars, leaseHosts, leases, sshKeys, users, type DeploymentRow } from "../schema";

/** The host behind a MAC, with the interface that asked. */
export async function findHostByMac(db: DbOrTx, mac: string) {
  const [row] = await db
    .select({ host: hosts, ifaceName: hostInterfaces.name })
    .from(hostInterfaces)
    .innerJoin(hosts, eq(hosts.id, hostInterfaces.hostId))
    .where(eq(hostInterfaces.mac, mac))
    .limit(1);
  return row;
}

export async function touchHostSeen(db: DbOrTx, params: { hostId: string; at: Date; sourceIp: string | null }) {
  await db.update(hosts).set({ lastSeenAt: params.at, sourceIp: params.sourceIp }).where(eq(hosts.id, params.hostId));
}

/**
 * Last seen of many hosts in one statement (the boot server's batch): each row's time and
 * address, never moving a host's last seen backwards.
 */
export async function touchHostsSeen(db: DbOrTx, rows: { hostId: string; at: Date; sourceIp: string | null }[]): Promise<void> {
  if (rows.length === 0) return;
  const values = sql.join(
    rows.map((r) => sql`(${r.hostId}::uuid, ${r.at.toISOString()}::timestamptz, ${r.sourceIp}::text)`),
    sql`, `,
  );
  await db.execute(sql`
    update ${hosts} set last_seen_at = v.at, source_ip = v.ip
    from (values ${values}) as v(id, at, ip)
    where ${hosts.id} = v.id and (${hosts.lastSeenAt} is null or ${hosts.lastSeenAt} <= v.at)`);
}

export async function getActiveDeployment(db: DbOrTx, hostId: string): Promise<DeploymentRow | undefined> {
  const [row] = await db
    .select()
    .from(deployments)
    .where(and(eq(deployments.hostId, hostId), inArray(deployments.state, ["pending", "running"])))
    .limit(1);
  return row;
}

export async function getDeploymentByTokenHash(db: DbOrTx, tokenHash: string): Promise<DeploymentRow | undefined> {
  const [row] = await db.select().from(deployments).where(eq(deployments.tokenHash, tokenHash)).limit(1);
  return row;
}

export async function insertDeployment(db: DbOrTx, values: typeof deployments.$inferInsert): Promise<DeploymentRow> {
  const [row] = await db.insert(deployments).values(values).returning();
  return row!;
}

/** Stores a run's rendered text once: only while none is stored (null when another request stored it first). */
export async function storeDeploymentRendering(db: DbOrTx, id: string, values: { renderedSystem: string | null; renderedUnattended: string | null; tokenPlaceholder: string }) {
  const [row] = await db
    .update(deployments)
    .set(values)
    .where(and(eq(deployments.id, id), isNull(deployments.tokenPlaceholder)))
    .returning({ renderedSystem: deployments.renderedSystem, renderedUnattended: deployments.renderedUnattended, tokenPlaceholder: deployments.tokenPlaceholder });
  return row;
}

export async function getDeploymentRendering(db: DbOrTx, id: string) {
  const [row] = await db
    .select({ renderedSystem: deployments.renderedSystem, renderedUnattended: deployments.renderedUnattended, tokenPlaceholder: deployments.tokenPlaceholder })
    .from(deployments)
    .where(eq(deployments.id, id))
    .limit(1);
  return row;
}

export async function updateDeploymentRow(db: DbOrTx, id: string, values: Partial<typeof deployments.$inferInsert>) {
  const [row] = await db.update(deployments).set(values).where(eq(deployments.id, id)).returning();
  return row;
}

/** Counts boots of an active deployment (`count` at once from the boot server's batch); the first one moves it pending → running. */
export async function recordDeploymentBoot(db: DbOrTx, id: string, at: Date, count = 1): Promise<void> {
  await db
    .update(deployments)
    .set({
      bootCount: sql`${deployments.bootCount} + ${count}::int`,
      state: sql`case when ${deployments.state} = 'pending' then 'running'::deployment_state else ${deployments.state} end`,
      startedAt: sql`coalesce(${deployments.startedAt}, ${at.toISOString()}::timestamptz)`,
    })
    .where(eq(deployments.id, id));
}

export async function listHostDeployments(db: DbOrTx, hostId: string, limit = 20) {
  return db.select().from(deployments).where(eq(deployments.hostId, hostId)).orderBy(desc(deployments.createdAt)).limit(limit);
}

export async function getBootSettingsRow(db: DbOrTx, hostId: string) {
  const [row] = await db.select().from(hostBootSettings).where(eq(hostBootSettings.hostId, hostId)).limit(1);
  return row;
}

export async function upsertBootSettings(db: DbOrTx, values: typeof hostBootSettings.$inferInsert) {
  const [row] = await db
    .insert(hostBootSettings)
    .values(values)
    .onConflictDoUpdate({ target: hostBootSettings.hostId, set: { ...values, updatedAt: new Date() } })
    .returning();
  return row!;
}

export async function getHostVars(db: DbOrTx, hostId: string): Promise<Record<string, unknown>> {
  const [row] = await db.select().from(hostVars).where(eq(hostVars.hostId, hostId)).limit(1);
  return row?.vars ?? {};
}

export async function upsertHostVars(db: DbOrTx, hostId: string, vars: Record<string, unknown>) {
  await db.insert(hostVars).values({ hostId, vars }).onConflictDoUpdate({ target: hostVars.hostId, set: { vars } });
}

/** The current holder of a host (active lease), with what templates need of them. */
export async function getHolder(db: DbOrTx, hostId: string) {
  const [row] = await db
    .select({ leaseId: leases.id, user: users })
    .from(leaseHosts)
    .innerJoin(leases, eq(leases.id, leaseHosts.leaseId))
    .innerJoin(users, eq(users.id, leases.userId))
    .where(and(eq(leaseHosts.hostId, hostId), isNull(leaseHosts.releasedAt)))
    .limit(1);
  if (!row) return undefined;
  const keys = await db.select({ publicKey: sshKeys.publicKey, comment: sshKeys.comment }).from(sshKeys).where(eq(sshKeys.userId, row.user.id));
  return { leaseId: row.leaseId, user: row.user, sshKeys: keys.map((k) => (k.comment ? `${k.publicKey} ${k.comment}` : k.publicKey)) };
}

/** Records a discovered machine (state new). Two requests racing on one MAC: one inserts, the other finds it. */
export async function insertDiscoveredHost(db: DbOrTx, params: { name: string; mac: string; hostnameHint: string | null; sourceIp: string | null; at: Date; siteId?: string | null; arch?: "x86_64" | "arm64" | null }) {
  return db.transaction(async (tx) => {
    const [host] = await tx
      .insert(hosts)
      // No site given: the column's default (the default site).
      .values({ name: params.name, state: "new", hostnameHint: params.hostnameHint, sourceIp: params.sourceIp, firstSeenAt: params.at, lastSeenAt: params.at, ...(params.siteId ? { siteId: params.siteId } : {}), ...(params.arch ? { arch: params.arch } : {}) })
      .onConflictDoNothing()
      .returning();
    if (!host) return undefined;
    const [iface] = await tx.insert(hostInterfaces).values({ hostId: host.id, mac: params.mac, isPxe: true, name: "" }).onConflictDoNothing().returning();
    if (!iface) {
      // Another request registered this MAC a moment ago: drop our duplicate host.
      await tx.delete(hosts).where(eq(hosts.id, host.id));
      return undefined;
    }
    return host;
  });
}
