// "Ready at the start" (issue 16 item 2): how long before a reservation's start Kiln must take
// its hosts to have what it names deployed, from measured deploy times; starting those deploys;
// and, at the start, whether the plan was met. STUB: owned by the deploy-many helper, who replaces
// these bodies; the signatures are the contract lib/reservations/transitions.ts calls.
import type { ReservationDeploy, ReservationPlan, ReservationRow } from "@/db/schema";
import type { Db, DbOrTx } from "../db";

export const DEFAULT_DEPLOY_LEAD_SECONDS = 30 * 60;

/** The lead for deploying `deploy` on `hostIds` (measured where Kiln has finished runs to measure). */
export async function planDeployLead(_db: DbOrTx, _p: { deploy: ReservationDeploy; hostIds: string[] }): Promise<ReservationPlan> {
  return { leadSeconds: DEFAULT_DEPLOY_LEAD_SECONDS, basis: "default (no measured runs)", samples: 0 };
}

/** Starts the reservation's deploy on its lease's hosts as one deployment group (powered). Returns the group id. */
export async function startReadyDeploys(_db: Db, _p: { reservation: ReservationRow; leaseId: string; hostIds: string[]; now: Date }): Promise<string | null> {
  return null;
}

/** At the start: has every host's run finished (and the installed system reported in) before startsAt? */
export async function checkReadyOutcome(_db: Db, _p: { reservation: ReservationRow; now: Date }): Promise<NonNullable<ReservationPlan["outcome"]>> {
  return { met: false, checkedAt: _p.now.toISOString(), hosts: [] };
}
