// Applies host state changes through the state machine and records each one as a host
// event. Everything that changes a host's state (admins, leases, boot, jobs) calls this.
import { insertHostEvents, transitionHosts } from "@/db/queries/hosts";
import { getHostRowsByIds } from "@/db/queries/hosts";
import type { HostState } from "@/db/schema";
import type { DbOrTx } from "../db";
import { AppError } from "../errors";
import { describeIllegalTransition, sourcesOf } from "./state-machine";

export async function transitionHostStates(
  db: DbOrTx,
  params: { hostIds: string[]; to: HostState; actorUserId: string | null; message?: string; leaseId?: string | null; at?: Date },
): Promise<{ id: string; name: string; oldState: HostState }[]> {
  const changed = await transitionHosts(db, { hostIds: params.hostIds, to: params.to, from: sourcesOf(params.to), at: params.at });
  if (changed.length !== params.hostIds.length) {
    const done = new Set(changed.map((c) => c.id));
    const [blocked] = (await getHostRowsByIds(db, params.hostIds.filter((id) => !done.has(id))));
    if (!blocked) throw new AppError("not_found", "That host does not exist.");
    throw new AppError("conflict", describeIllegalTransition(blocked.name, blocked.state, params.to), { hostId: blocked.id, state: blocked.state });
  }
  await insertHostEvents(
    db,
    changed.map((c) => ({
      hostId: c.id,
      kind: "state",
      fromState: c.oldState,
      toState: params.to,
      actorUserId: params.actorUserId,
      message: params.message ?? "",
      leaseId: params.leaseId ?? null,
      at: params.at,
    })),
  );
  return changed;
}
