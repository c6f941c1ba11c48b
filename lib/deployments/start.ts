// Starting a run on a held host, the one entry for every caller: a plain run, or a diskless
// boot (./diskless-boot.ts), which builds on ./commands.ts and ./start-plan.ts; kept apart so neither imports the other back.
import type { Actor } from "../access/actor";
import type { Db } from "../db";
import { createDeployment } from "./commands";
import { getDeployment, type DeploymentView } from "./views";
import { planFromInput } from "./start-plan";
import { startDisklessBoot } from "./diskless-boot";

/** POST /api/v1/hosts/:id/deployments — start a run on a held host. */
export async function startDeployment(db: Db, actor: Actor, hostId: string, input: unknown, clock: { now?: Date } = {}): Promise<DeploymentView> {
  // "Boot diskless" (docs/diskless.md): the same run, plus the host's copy-on-write root.
  if (typeof input === "object" && input !== null && (input as { diskless?: unknown }).diskless === true) {
    return startDisklessBoot(db, actor, hostId, input as Record<string, unknown>);
  }
  const plan = await planFromInput(db, actor, hostId, input);
  const d = await createDeployment(db, actor, plan, clock.now);
  return getDeployment(db, actor, d.id);
}
