import type { HOST_STATES } from "@/lib/hosts/state-machine";
import { Badge, type Tone } from "../ui/badge";

export type HostState = (typeof HOST_STATES)[number];

const TONE: Record<HostState, Tone> = {
  new: "sky",
  available: "green",
  leased: "indigo",
  releasing: "kiln",
  maintenance: "amber",
  broken: "red",
};

const LABEL: Record<HostState, string> = {
  new: "new (not accepted)",
  available: "available",
  leased: "leased",
  releasing: "releasing",
  maintenance: "maintenance",
  broken: "broken",
};

export function HostStateBadge({ state, short = false }: { state: HostState; short?: boolean }) {
  return <Badge tone={TONE[state]}>{short ? state : LABEL[state]}</Badge>;
}
