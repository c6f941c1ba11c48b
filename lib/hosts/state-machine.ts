// The one place that says how a host's state may change, and how a provisioning run's
// state may change (below). db/queries/hosts.ts applies a transition with a guarded UPDATE
// (WHERE state = ANY(allowed sources)), so concurrent changes cannot skip this table.
import type { HostState } from "@/db/schema";
import type { DEPLOYMENT_ORIGINS, DEPLOYMENT_STATES } from "@/db/schema/enums";

// For app/ and components/, which do not import db/.
export { HOST_STATES } from "@/db/schema/enums";

const TRANSITIONS: Record<HostState, readonly HostState[]> = {
  new: ["available", "maintenance", "broken"],
  available: ["leased", "maintenance", "broken"],
  leased: ["releasing", "broken"],
  releasing: ["available", "maintenance", "broken"],
  maintenance: ["available", "broken"],
  broken: ["maintenance", "available"],
};

/** States a host may be commissioned in (lib/deployments/commission.ts): not while someone holds it or it is being released. */
const COMMISSIONABLE: readonly HostState[] = ["new", "available", "maintenance", "broken"];

export function isCommissionable(state: HostState): boolean {
  return COMMISSIONABLE.includes(state);
}

export function canTransition(from: HostState, to: HostState): boolean {
  return TRANSITIONS[from].includes(to);
}

/** The states from which `to` may be entered. */
export function sourcesOf(to: HostState): HostState[] {
  return (Object.keys(TRANSITIONS) as HostState[]).filter((from) => TRANSITIONS[from].includes(to));
}

export function describeIllegalTransition(name: string, from: HostState, to: HostState): string {
  if (from === to) return `Host ${name} is already ${from}.`;
  const hint =
    from === "leased"
      ? " Release its lease first."
      : from === "new"
        ? " Accept it first."
        : "";
  return `Host ${name} is ${from}; it cannot become ${to}.${hint}`;
}

// Provisioning is a second axis beside the lease lifecycle above, not more host states: a
// host being reinstalled is still `leased` (quotas, expiry, hand-over and the invariant
// "in an active lease ⇔ leased" keep holding), and a host being wiped at the end of a lease
// is still `releasing` (only a wiped host becomes `available`). What a person sees as
// "deploying", "deployed" or "failed" is derived from the host's latest run, so it can
// never disagree with the record of that run — not even after a crash between two writes.
// A failed wipe at release takes the host releasing → maintenance for an administrator.
export type DeploymentState = (typeof DEPLOYMENT_STATES)[number];

const RUN_TRANSITIONS: Record<DeploymentState, readonly DeploymentState[]> = {
  pending: ["running", "done", "failed", "cancelled"],
  running: ["done", "failed", "cancelled"],
  done: [],
  failed: [],
  cancelled: [],
};

export function canFinishDeployment(from: DeploymentState, to: DeploymentState): boolean {
  return RUN_TRANSITIONS[from].includes(to);
}

export function isActiveDeployment(state: DeploymentState): boolean {
  return state === "pending" || state === "running";
}

export type ProvisioningState = "none" | "deploying" | "deployed" | "wiping" | "wiped" | "capturing" | "captured" | "commissioning" | "commissioned" | "failed" | "cancelled";

/** The provisioning state shown for a host, from its latest run (null: never provisioned). */
export function provisioningStateOf(latest: { state: DeploymentState; origin: (typeof DEPLOYMENT_ORIGINS)[number]; action?: string } | null | undefined): ProvisioningState {
  if (!latest) return "none";
  if (latest.state === "failed" || latest.state === "cancelled") return latest.state;
  const active = latest.state === "pending" || latest.state === "running";
  if (latest.action === "commission") return active ? "commissioning" : "commissioned";
  if (latest.origin === "release" || latest.action === "wipe_disk") return active ? "wiping" : "wiped";
  if (latest.action === "capture_disk") return active ? "capturing" : "captured";
  return active ? "deploying" : "deployed";
}
