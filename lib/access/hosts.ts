// Per-host access: what the holder of a host's lease may do to it.
import { getActiveLeaseOfHost, getHostRow } from "@/db/queries/hosts";
import type { DbOrTx } from "../db";
import { AppError } from "../errors";
import { isAdmin, type Actor } from "./actor";

/**
 * Boot settings, marks and previews belong to whoever holds the host's lease (and admins).
 * Anyone else gets 404, so host ids reveal nothing.
 */
export async function assertHostHolder(db: DbOrTx, actor: Actor, hostId: string): Promise<{ leaseId: string | null }> {
  const host = await getHostRow(db, hostId);
  const lease = host ? await getActiveLeaseOfHost(db, hostId) : undefined;
  if (!host || (!isAdmin(actor) && lease?.userId !== actor.user?.id)) throw new AppError("not_found", "That host does not exist.");
  return { leaseId: lease?.leaseId ?? null };
}
