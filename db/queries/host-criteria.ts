// What a lease or a host list may ask of a host, as SQL over the facts commissioning stores:
// hosts.cpu_cores, memory_mb, disks (jsonb array) and facts (jsonb: cpu, nics, firmware…).
// Lease allocation, the host lists and the pool match counts all filter through here, so a
// count shown in the lease dialog is the count the allocation would find.
// A host with a fact missing (never commissioned, or an old row) never matches a criterion on it.
import { and, eq, sql, type SQL } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { hosts } from "../schema";

export type HostCriteriaInput = {
  tags?: string[];
  minCores?: number;
  minMemoryMb?: number;
  minDiskGb?: number;
  diskType?: "hdd" | "ssd" | "nvme";
  firmware?: "bios" | "uefi";
  arch?: "x86_64" | "arm64";
  cpuModel?: string;
  minNicSpeedMbps?: number;
};

/** One criterion per thing asked; minDiskGb and diskType are one criterion (the same disk must meet both). */
export type HostCriterionKey = "tags" | "cores" | "memory" | "disk" | "firmware" | "arch" | "cpuModel" | "nicSpeed";

/** A jsonb value as an array to iterate, or an empty one (a malformed row matches nothing rather than failing the query). */
function asArray(value: SQL): SQL {
  return sql`(case when jsonb_typeof(${value}) = 'array' then ${value} else '[]'::jsonb end)`;
}

/** A number in a jsonb object, or null when it is absent or not a number (no cast can fail). */
function jsonNumber(obj: SQL, key: string): SQL {
  return sql`(case when jsonb_typeof(${obj} -> ${sql.raw(`'${key}'`)}) = 'number' then (${obj} ->> ${sql.raw(`'${key}'`)})::numeric end)`;
}

/**
 * A disk's kind: its reported `type`, else NVMe by its name (nvme0n1), else by its rotational
 * flag; null when none of these is known (it then matches no type).
 */
const DISK_KIND = sql`coalesce(
  case when d ->> 'type' in ('hdd', 'ssd', 'nvme') then d ->> 'type' end,
  case when d ->> 'name' like 'nvme%' then 'nvme'
       when jsonb_typeof(d -> 'rotational') = 'boolean' then case when (d ->> 'rotational')::boolean then 'hdd' else 'ssd' end
  end)`;

/** "ssd" means solid-state, so an NVMe disk is one too; "nvme" and "hdd" are exact. */
function diskKindCondition(type: "hdd" | "ssd" | "nvme"): SQL {
  return type === "ssd" ? sql`${DISK_KIND} in ('ssd', 'nvme')` : sql`${DISK_KIND} = ${type}`;
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export function hostCriteria(p: HostCriteriaInput): { key: HostCriterionKey; where: SQL }[] {
  const out: { key: HostCriterionKey; where: SQL }[] = [];
  if (p.tags?.length) out.push({ key: "tags", where: sql`${hosts.tags} @> ${`{${p.tags.join(",")}}`}::text[]` });
  if (p.minCores) out.push({ key: "cores", where: sql`coalesce(${hosts.cpuCores} >= ${p.minCores}, false)` });
  if (p.minMemoryMb) out.push({ key: "memory", where: sql`coalesce(${hosts.memoryMb} >= ${p.minMemoryMb}, false)` });
  if (p.minDiskGb || p.diskType) {
    const d = sql.raw("d");
    const conds = [
      p.minDiskGb ? sql`coalesce(${jsonNumber(d, "sizeBytes")} >= ${p.minDiskGb}::numeric * 1000000000, false)` : undefined,
      p.diskType ? sql`coalesce(${diskKindCondition(p.diskType)}, false)` : undefined,
    ].filter((c): c is SQL => Boolean(c));
    out.push({ key: "disk", where: sql`exists (select 1 from jsonb_array_elements(${asArray(sql`${hosts.disks}`)}) d where ${sql.join(conds, sql` and `)})` });
  }
  if (p.firmware) out.push({ key: "firmware", where: sql`coalesce(${hosts.facts} ->> 'firmware' = ${p.firmware}, false)` });
  // A column, always known (default x86_64): unlike the facts, a host never commissioned matches it.
  if (p.arch) out.push({ key: "arch", where: eq(hosts.arch, p.arch) });
  if (p.cpuModel) out.push({ key: "cpuModel", where: sql`coalesce(${hosts.facts} -> 'cpu' ->> 'model' ilike ${`%${escapeLike(p.cpuModel)}%`}, false)` });
  if (p.minNicSpeedMbps) {
    const n = sql.raw("n");
    out.push({
      key: "nicSpeed",
      where: sql`exists (select 1 from jsonb_array_elements(${asArray(sql`(${hosts.facts} -> 'nics')`)}) n where coalesce(${jsonNumber(n, "speedMbps")} >= ${p.minNicSpeedMbps}, false))`,
    });
  }
  return out;
}

/** Nothing known of its hardware: it matches no hardware criterion until it is commissioned. */
const WITHOUT_FACTS = sql`(${hosts.cpuCores} is null and ${hosts.memoryMb} is null
  and jsonb_array_length(${asArray(sql`${hosts.disks}`)}) = 0
  and ${hosts.facts} -> 'cpu' is null and ${hosts.facts} -> 'nics' is null and ${hosts.facts} -> 'firmware' is null)`;

/**
 * The free hosts of a pool and how many meet each criterion, all criteria and none (no facts),
 * in one statement. No locks: a count for a message or the lease dialog, not a grant.
 */
export async function countPoolMatches(db: DbOrTx, p: { poolId: string } & HostCriteriaInput) {
  const criteria = hostCriteria(p);
  const fields: Record<string, SQL<number>> = {
    free: sql<number>`count(*)::int`,
    matching: criteria.length ? sql<number>`(count(*) filter (where ${and(...criteria.map((c) => c.where))}))::int` : sql<number>`count(*)::int`,
    withoutFacts: sql<number>`(count(*) filter (where ${WITHOUT_FACTS}))::int`,
  };
  criteria.forEach((c, i) => (fields[`c${i}`] = sql<number>`(count(*) filter (where ${c.where}))::int`));
  const [row] = await db
    .select(fields)
    .from(hosts)
    .where(and(eq(hosts.poolId, p.poolId), eq(hosts.state, "available")));
  const r = row as Record<string, number>;
  return { free: r.free!, matching: r.matching!, withoutFacts: r.withoutFacts!, criteria: criteria.map((c, i) => ({ key: c.key, matching: r[`c${i}`]! })) };
}
