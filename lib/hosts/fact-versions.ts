// A host's hardware fact versions as the host page shows them: each with what changed since the
// version before it. The versions are written by commissioning and deploy runs (lib/deployments).
import { listHostFactVersions } from "@/db/queries/host-facts";
import type { Db } from "../db";
import type { Actor } from "../access/actor";
import { assertHostHolder } from "../access/hosts";
import { diffFacts, type FactChange } from "./facts-diff";
import type { HostFacts } from "./facts";

export type FactVersionView = {
  version: number;
  source: "commission" | "deploy";
  deploymentId: string | null;
  recordedAt: string;
  cpuCores: number | null;
  memoryMb: number | null;
  /** What changed since the version before it; null for the first. */
  changes: FactChange[] | null;
};

/** A host's fact versions, newest first, each with what changed since the one before (host page: admins and the holder). */
export async function listFactVersionViews(db: Db, actor: Actor, hostId: string, limit = 10): Promise<FactVersionView[]> {
  await assertHostHolder(db, actor, hostId);
  const rows = await listHostFactVersions(db, hostId, limit + 1);
  return rows.slice(0, limit).map((r, i) => {
    const older = rows[i + 1];
    return {
      version: r.version,
      source: r.source,
      deploymentId: r.deploymentId,
      recordedAt: r.recordedAt.toISOString(),
      cpuCores: r.snapshot.cpuCores,
      memoryMb: r.snapshot.memoryMb,
      changes: older ? diffFacts(older.snapshot, r.snapshot) : null,
    };
  });
}

export type { HostFacts };
