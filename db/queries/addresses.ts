import { and, desc, inArray, sql } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { deployments, hostAddresses, leaseHosts, type DeploymentRow, type HostAddressSource } from "../schema";

export type HostAddressInsert = { hostId: string; address: string; source: HostAddressSource; mac: string | null; seenAt: Date };

/**
 * Many addresses in one statement (the boot server's batch, or one report), then only the
 * newest `keep` of each (host, source) the batch touched stay: a machine that moves between
 * networks does not grow its list forever. seen_at never moves backwards.
 */
export async function upsertHostAddresses(db: DbOrTx, p: { rows: HostAddressInsert[]; keep: number }): Promise<void> {
  if (p.rows.length === 0) return;
  // One row per key: PostgreSQL refuses an ON CONFLICT that would touch the same row twice.
  const byKey = new Map<string, HostAddressInsert>();
  for (const r of p.rows) {
    const key = `${r.hostId}/${r.address}/${r.source}`;
    const prev = byKey.get(key);
    if (!prev || prev.seenAt <= r.seenAt) byKey.set(key, { ...r, mac: r.mac ?? prev?.mac ?? null });
  }
  const rows = [...byKey.values()];
  await db
    .insert(hostAddresses)
    .values(rows)
    .onConflictDoUpdate({
      target: [hostAddresses.hostId, hostAddresses.address, hostAddresses.source],
      set: {
        seenAt: sql`greatest(${hostAddresses.seenAt}, excluded.seen_at)`,
        mac: sql`coalesce(excluded.mac, ${hostAddresses.mac})`,
      },
    });
  const hostIds = [...new Set(rows.map((r) => r.hostId))];
  await db.execute(sql`
    delete from ${hostAddresses} a
    using (
      select host_id, address, source,
             row_number() over (partition by host_id, source order by seen_at desc, address) as n
      from ${hostAddresses}
      where host_id in (${sql.join(hostIds.map((id) => sql`${id}::uuid`), sql`, `)})
    ) ranked
    where a.host_id = ranked.host_id and a.address = ranked.address and a.source = ranked.source and ranked.n > ${p.keep}`);
}

/**
 * The boot server's batch in one statement: each host's last seen and source address (never
 * moving last seen backwards, as touchHostsSeen) and the address among the host's learned
 * ones (source boot), then only the newest `keep` boot addresses of those hosts. One round
 * trip per flush however many hosts: the machine plane's write budget.
 */
export async function recordBootSightings(
  db: DbOrTx,
  p: { rows: { hostId: string; at: Date; sourceIp: string | null; address: string | null; mac: string | null }[]; keep: number },
): Promise<void> {
  if (p.rows.length === 0) return;
  const values = sql.join(
    p.rows.map((r) => sql`(${r.hostId}::uuid, ${r.at.toISOString()}::timestamptz, ${r.sourceIp}::text, ${r.address}::text, ${r.mac}::text)`),
    sql`, `,
  );
  // Data-modifying CTEs all see the snapshot from before the statement: the trim ranks the
  // rows already there with this batch's, and never deletes a row this batch upserts (one
  // statement must not change a row twice).
  await db.execute(sql`
    with v(id, at, ip, addr, mac) as (values ${values}),
    touched as (
      update hosts h set last_seen_at = v.at, source_ip = v.ip
      from v where h.id = v.id and (h.last_seen_at is null or h.last_seen_at <= v.at)
      returning h.id
    ),
    upserted as (
      insert into host_addresses (host_id, address, source, mac, seen_at)
      select distinct on (id, addr) id, addr, 'boot'::host_address_source, mac, at from v where addr is not null order by id, addr, at desc
      on conflict (host_id, address, source) do update
        set seen_at = greatest(host_addresses.seen_at, excluded.seen_at), mac = coalesce(excluded.mac, host_addresses.mac)
      returning host_id
    ),
    ranked as (
      select host_id, address, row_number() over (partition by host_id order by seen_at desc, address) as n
      from (
        select a.host_id, a.address, a.seen_at from host_addresses a
        where a.source = 'boot' and a.host_id in (select id from v where addr is not null)
          and not exists (select 1 from v where v.id = a.host_id and v.addr = a.address)
        union all
        select id, addr, at from v where addr is not null
      ) candidates
    )
    delete from host_addresses a using ranked r
    where a.source = 'boot' and a.host_id = r.host_id and a.address = r.address and r.n > ${p.keep}
      and not exists (select 1 from v where v.id = a.host_id and v.addr = a.address)`);
}

/** With `leaseOf` (host → lease), only what was seen since the host joined that lease. */
export async function listAddressesOfHosts(db: DbOrTx, hostIds: string[], leaseOf?: Map<string, string>) {
  const ids = leaseOf ? hostIds.filter((id) => leaseOf.has(id)) : hostIds;
  if (ids.length === 0) return [];
  const sinceLease = leaseOf
    ? sql`exists (select 1 from ${leaseHosts} lh where lh.host_id = ${hostAddresses.hostId} and ${hostAddresses.seenAt} >= lh.added_at
        and (lh.host_id, lh.lease_id) in (${sql.join(
          ids.map((id) => sql`(${id}::uuid, ${leaseOf.get(id)!}::uuid)`),
          sql`, `,
        )}))`
    : undefined;
  return db
    .select({ hostId: hostAddresses.hostId, address: hostAddresses.address, source: hostAddresses.source, mac: hostAddresses.mac, seenAt: hostAddresses.seenAt })
    .from(hostAddresses)
    .where(and(inArray(hostAddresses.hostId, ids), sinceLease))
    .orderBy(desc(hostAddresses.seenAt), hostAddresses.address);
}

export type LatestDeploymentRow = Pick<DeploymentRow, "id" | "hostId" | "leaseId" | "action" | "state" | "origin" | "finishedAt" | "failureReason" | "vars" | "renderedUnattended">;

/**
 * The newest run of each host; with `leaseOf`, only runs under that lease of the host (a
 * researcher's view: a wipe before their lease is none of their business).
 */
export async function listLatestDeploymentsOfHosts(db: DbOrTx, p: { hostIds: string[]; leaseOf?: Map<string, string> }): Promise<LatestDeploymentRow[]> {
  const ids = p.leaseOf ? p.hostIds.filter((id) => p.leaseOf!.has(id)) : p.hostIds;
  if (ids.length === 0) return [];
  const where = p.leaseOf
    ? sql`(${deployments.hostId}, ${deployments.leaseId}) in (${sql.join(
        ids.map((id) => sql`(${id}::uuid, ${p.leaseOf!.get(id)!}::uuid)`),
        sql`, `,
      )})`
    : inArray(deployments.hostId, ids);
  return db
    .selectDistinctOn([deployments.hostId], {
      id: deployments.id,
      hostId: deployments.hostId,
      leaseId: deployments.leaseId,
      action: deployments.action,
      state: deployments.state,
      origin: deployments.origin,
      finishedAt: deployments.finishedAt,
      failureReason: deployments.failureReason,
      vars: deployments.vars,
      renderedUnattended: deployments.renderedUnattended,
    })
    .from(deployments)
    .where(where)
    .orderBy(deployments.hostId, desc(deployments.createdAt), desc(deployments.id));
}

export async function getLatestDeploymentOfHost(db: DbOrTx, hostId: string, leaseId?: string): Promise<LatestDeploymentRow | undefined> {
  const [row] = await listLatestDeploymentsOfHosts(db, { hostIds: [hostId], leaseOf: leaseId ? new Map([[hostId, leaseId]]) : undefined });
  return row;
}
