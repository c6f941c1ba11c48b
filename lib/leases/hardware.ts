// Hardware as selection criteria ("16 cores, 64 GB, an SSD of 500 GB"): the words for each
// criterion, the refusal that says how many free hosts meet each one, and the match count the
// lease dialog shows as the researcher types. The SQL is db/queries/host-criteria.ts, shared
// with the allocation, so the dialog's count is what a grant would find.
import { countPoolMatches, type HostCriterionKey } from "@/db/queries/host-criteria";
import { getPoolRow } from "@/db/queries/pools";
import type { DbOrTx } from "../db";
import { AppError } from "../errors";
import type { Actor } from "../access/actor";
import type { HardwareFilter } from "../validation/inventory";
import { poolMatchQuerySchema } from "../validation/pools";
import { parseInput } from "../validation/parse";
import { archLabel } from "../hosts/arch";

export type LeaseCriteria = HardwareFilter & { tags: string[] };

function plural(n: number, one: string, many: string): string {
  return n === 1 ? one : many;
}

function memoryText(mb: number): string {
  return mb % 1024 === 0 ? `${mb / 1024} GB` : `${mb} MB`;
}

function speedText(mbps: number): string {
  return mbps % 1000 === 0 ? `${mbps / 1000} Gb/s` : `${mbps} Mb/s`;
}

const DISK_WORDS = { nvme: "an NVMe disk", ssd: "a solid-state disk (SSD or NVMe)", hdd: "a rotating disk (HDD)" } as const;

/** What a host must have, as the end of "3 have …" / "none has …". */
export function criterionLabel(key: HostCriterionKey, c: LeaseCriteria): string {
  switch (key) {
    case "tags":
      return `${plural(c.tags.length, "tag", "tags")} ${c.tags.join(", ")}`;
    case "cores":
      return `at least ${c.minCores} cores`;
    case "memory":
      return `at least ${memoryText(c.minMemoryMb!)} memory`;
    case "disk":
      return `${c.diskType ? DISK_WORDS[c.diskType] : "a disk"}${c.minDiskGb ? ` of at least ${c.minDiskGb} GB` : ""}`;
    case "firmware":
      return `${c.firmware === "uefi" ? "UEFI" : "BIOS"} firmware`;
    case "arch":
      return `the ${archLabel(c.arch!)} architecture`;
    case "cpuModel":
      return `a CPU model containing “${c.cpuModel}”`;
    case "nicSpeed":
      return `a network interface of at least ${speedText(c.minNicSpeedMbps!)}`;
  }
}

export function hasHardwareCriteria(c: HardwareFilter): boolean {
  return Boolean(c.minCores || c.minMemoryMb || c.minDiskGb || c.diskType || c.firmware || c.arch || c.cpuModel || c.minNicSpeedMbps);
}

export type MatchCounts = { free: number; matching: number; withoutFacts: number; criteria: { criterion: HostCriterionKey; label: string; matching: number }[] };

/**
 * The refusal when fewer hosts match than asked: how many are free, how many meet each
 * criterion, and how many know nothing of their hardware yet.
 * "3 hosts are free in pool gpu; none has an NVMe disk of at least 500 GB. Nothing was leased."
 */
export function insufficientMessage(p: { poolName: string; requested: number } & MatchCounts): string {
  if (p.free === 0) return `No host available in pool ${p.poolName} right now. Nothing was leased.`;
  const each = p.criteria.map((c) => (c.matching === 0 ? `none has ${c.label}` : `${c.matching} ${plural(c.matching, "has", "have")} ${c.label}`));
  let text = `${p.free} ${plural(p.free, "host is", "hosts are")} free in pool ${p.poolName}; ${each.join(", ")}`;
  const several = p.criteria.length > 1;
  if (p.matching === 0) {
    if (several && p.criteria.every((c) => c.matching > 0)) text += `, but none has all of these`;
  } else {
    text += several ? `; ${p.matching} ${plural(p.matching, "has", "have")} all of these, and you asked for ${p.requested}` : `; you asked for ${p.requested}`;
  }
  text += ".";
  if (p.withoutFacts > 0) {
    text += ` ${p.withoutFacts} of the free hosts ${plural(p.withoutFacts, "has", "have")} no hardware facts yet (never commissioned), so ${plural(p.withoutFacts, "it matches", "they match")} no hardware requirement.`;
  }
  return `${text} Nothing was leased.`;
}

/** A pool's free hosts counted against the criteria, each criterion with its words. */
async function countMatches(db: DbOrTx, poolId: string, criteria: LeaseCriteria): Promise<MatchCounts> {
  const counts = await countPoolMatches(db, { poolId, ...criteria });
  return { ...counts, criteria: counts.criteria.map((c) => ({ criterion: c.key, label: criterionLabel(c.key, criteria), matching: c.matching })) };
}

/** Counts for a refusal, labelled; `matching` is what the grant could take (hosts other grants hold locked are not). */
export async function countForRefusal(db: DbOrTx, p: { poolId: string; criteria: LeaseCriteria; picked: number }): Promise<MatchCounts> {
  const counts = await countMatches(db, p.poolId, p.criteria);
  return { ...counts, free: Math.max(counts.free, p.picked), matching: p.picked };
}

/**
 * How many free hosts of a pool a lease with these criteria could take now. Everyone signed in
 * sees every pool and its free count (lib/pools listPools), so anyone may narrow that count.
 */
export async function getPoolMatches(db: DbOrTx, actor: Actor, poolId: string, query: unknown) {
  if (!actor.user) throw new AppError("unauthorized", "Sign in to see free hosts.");
  const criteria = parseInput(poolMatchQuerySchema, query);
  const pool = await getPoolRow(db, poolId);
  if (!pool) throw new AppError("not_found", "That pool does not exist.");
  return { poolId, poolName: pool.name, ...(await countMatches(db, poolId, criteria)) };
}
