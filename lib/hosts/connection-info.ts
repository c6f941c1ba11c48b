// What a holder needs to reach and trust a machine, for the host view (page and API): the
// addresses Kiln learned, the ssh line built from the best of them, and whether the machine
// is deployed, deploying or failed (from its latest run). Loaded for many hosts in three
// queries, so the host list pays the same as one host.
import { listLatestDeploymentsOfHosts, type LatestDeploymentRow } from "@/db/queries/addresses";
import type { DbOrTx } from "../db";
import { provisioningStateOf, type ProvisioningState } from "./state-machine";
import { listHostAddresses, pickSshAddress, sshCommand, sshUserOf, type HostAddressView, type SshUserSource } from "./addresses";

export type HostProvisioning = {
  /** deployed | deploying | failed | cancelled | wiping | wiped | capturing | captured | none (no run yet). */
  state: ProvisioningState;
  runId: string | null;
  action: LatestDeploymentRow["action"] | null;
  /** The run's own state: pending | running | done | failed | cancelled. */
  runState: LatestDeploymentRow["state"] | null;
  finishedAt: string | null;
  failureReason: string | null;
};

export type HostAccess = {
  address: string;
  addressSource: HostAddressView["source"];
  user: string;
  userSource: SshUserSource;
  command: string;
};

export type HostAccessInfo = { addresses: HostAddressView[]; provisioning: HostProvisioning; access: HostAccess | null };

const NO_RUN: HostProvisioning = { state: "none", runId: null, action: null, runState: null, finishedAt: null, failureReason: null };

export function provisioningOf(run: LatestDeploymentRow | undefined): HostProvisioning {
  if (!run) return NO_RUN;
  return {
    state: provisioningStateOf(run),
    runId: run.id,
    action: run.action,
    runState: run.state,
    finishedAt: run.finishedAt?.toISOString() ?? null,
    failureReason: run.failureReason,
  };
}

export function accessOf(addresses: HostAddressView[], run: LatestDeploymentRow | undefined): HostAccess | null {
  const best = pickSshAddress(addresses);
  if (!best) return null;
  // A wipe or capture says nothing about the installed system's accounts.
  const installRun = run && (run.action === "install" || run.action === "deploy_image") ? run : null;
  const { user, source } = sshUserOf(installRun);
  return { address: best.address, addressSource: best.source, user, userSource: source, command: sshCommand(user, best.address) };
}

/**
 * For hosts the caller may already see. `leaseOf` (host → the caller's current lease) limits
 * a researcher's runs and addresses to their own lease's; admins pass none and see all.
 */
export async function loadHostAccess(db: DbOrTx, p: { hostIds: string[]; leaseOf?: Map<string, string> }): Promise<Map<string, HostAccessInfo>> {
  const [addresses, runs] = await Promise.all([listHostAddresses(db, p.hostIds, p.leaseOf), listLatestDeploymentsOfHosts(db, p)]);
  const runOf = new Map(runs.map((r) => [r.hostId, r]));
  return new Map(
    p.hostIds.map((id) => {
      const list = addresses.get(id) ?? [];
      const run = runOf.get(id);
      return [id, { addresses: list, provisioning: provisioningOf(run), access: accessOf(list, run) }];
    }),
  );
}
