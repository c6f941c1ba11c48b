import { getHostRowsByIds } from "@/db/queries/hosts";
import { listHostRows } from "@/db/queries/hosts";
import type { DbOrTx } from "../db";
import { transitionHostStates } from "../hosts/transition";

/**
 * releasing → available. Nothing runs in between yet; the provisioning issue puts the
 * power-off and disk wipe here, and only a wiped host becomes available again.
 */
export async function completeHostReleases(db: DbOrTx, hostIds: string[], opts: { leaseId?: string } = {}): Promise<number> {
  const releasing = (await getHostRowsByIds(db, hostIds)).filter((h) => h.state === "releasing").map((h) => h.id);
  if (releasing.length === 0) return 0;
  const changed = await transitionHostStates(db, { hostIds: releasing, to: "available", actorUserId: null, leaseId: opts.leaseId ?? null, message: "released and ready" });
  return changed.length;
}

/** Safety net for the worker: hosts left in releasing (say, the web process died mid-release). */
export async function completeStuckReleases(db: DbOrTx): Promise<number> {
  const { rows } = await listHostRows(db, { state: "releasing", sort: "name", order: "asc", limit: 500, offset: 0 });
  return completeHostReleases(db, rows.map((r) => r.host.id));
}
