// The power state as people see it: the badge on host pages and lists, and what the power
// buttons can offer for the host's driver. Holders see their hosts; admins every host.
import { listPowerOfHosts } from "@/db/queries/power";
import type { DbOrTx } from "../db";
import { isAdmin, type Actor } from "../access/actor";
import { assertHostHolder } from "../access/hosts";
import { POWER_DRIVERS } from "./drivers";
import type { PowerView } from "./types";

type Row = Awaited<ReturnType<typeof listPowerOfHosts>>[number];

function toView(r: Row): PowerView {
  const d = POWER_DRIVERS[r.driver];
  const reportsState = d?.reportsState ?? false;
  return {
    hostId: r.hostId,
    driver: r.driver,
    state: r.state ?? "unknown",
    message: r.message ?? (reportsState ? "Not read yet: Kiln reads it at its next poll (or press “Check now”)." : (d?.noStateReason ?? `Unknown power driver “${r.driver}”.`)),
    checkedAt: r.checkedAt?.toISOString() ?? null,
    changedAt: r.changedAt?.toISOString() ?? null,
    reportsState,
    canPowerOff: d?.canPowerOff ?? false,
    networkBoot: d?.networkBoot ?? null,
  };
}

/** GET /api/v1/hosts/:id/power — one host's power state, for its holder or an admin. */
export async function getHostPowerView(db: DbOrTx, actor: Actor, hostId: string): Promise<PowerView> {
  await assertHostHolder(db, actor, hostId);
  const [row] = await listPowerOfHosts(db, { hostIds: [hostId] });
  return toView(row!);
}

/**
 * GET /api/v1/hosts/power?ids=… — the states of many hosts for a list. Hosts the actor may
 * not see are left out rather than refused, so a list that has just lost a host still loads.
 */
export async function listHostPowerViews(db: DbOrTx, actor: Actor, ids: string[]): Promise<{ data: PowerView[] }> {
  const rows = await listPowerOfHosts(db, { hostIds: ids, heldBy: isAdmin(actor) ? undefined : (actor.user?.id ?? "00000000-0000-0000-0000-000000000000") });
  return { data: rows.map(toView) };
}
