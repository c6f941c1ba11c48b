// The one place that says how a host's state may change. Provisioning (issue 6) adds
// its states here. db/queries/hosts.ts applies a transition with a guarded UPDATE
// (WHERE state = ANY(allowed sources)), so concurrent changes cannot skip this table.
import type { HostState } from "@/db/schema";

export const HOST_STATES = ["new", "available", "leased", "releasing", "maintenance", "broken"] as const satisfies readonly HostState[];

const TRANSITIONS: Record<HostState, readonly HostState[]> = {
  new: ["available", "maintenance", "broken"],
  available: ["leased", "maintenance", "broken"],
  leased: ["releasing", "broken"],
  releasing: ["available", "maintenance", "broken"],
  maintenance: ["available", "broken"],
  broken: ["maintenance", "available"],
};

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
