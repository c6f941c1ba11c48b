// Deploy many at once (issue 16 item 4). STUB: owned by the deploy-many helper, who replaces the
// body; the signature is the contract the reservations and run-record code call.
import type { Db } from "../db";
import type { Actor } from "../audit/audit";
import type { Clock } from "../clock";
import { AppError } from "../errors";

export type StartGroupParams = {
  leaseId: string;
  /** Hosts of the lease to deploy to; all its held hosts when left out. */
  hostIds?: string[];
  /** A run start (lib/validation/deployments.ts deploymentStartSchema input), the same on every host. */
  spec: unknown;
  reservationId?: string;
  rerunOfRecordId?: string;
  /** Runs per host in all, the first included (a failed host is retried alone). */
  maxAttempts?: number;
};

export async function startDeploymentGroup(_db: Db, _actor: Actor, _p: StartGroupParams, _clock: Clock = {}): Promise<{ groupId: string; deploymentIds: string[] }> {
  throw new AppError("conflict", "Deploying to several hosts at once is not built yet.");
}
