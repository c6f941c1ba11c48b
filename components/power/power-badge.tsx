// The power badge: on / off / unknown, with the driver's words as its tooltip. Plain markup,
// so server pages and client lists share it; the live version is LivePowerBadge.
import type { PowerState, PowerView } from "@/lib/power/types";
import { Badge, type Tone } from "../ui/badge";
import { formatDateTime } from "../ui/format";

const TONE: Record<PowerState, Tone> = { on: "green", off: "stone", unknown: "amber" };

export function PowerBadge({ power, withSince = false }: { power: Pick<PowerView, "state" | "message" | "changedAt" | "checkedAt" | "reportsState"> | null | undefined; withSince?: boolean }) {
  if (!power) return null;
  return (
    <span className="inline-flex flex-wrap items-center gap-1.5" title={power.message}>
      <Badge tone={TONE[power.state]} testId="power-badge">
        <span aria-hidden className={`mr-1 inline-block h-1.5 w-1.5 rounded-full ${power.state === "on" ? "bg-green-600" : power.state === "off" ? "bg-stone-400" : "bg-amber-500"}`} />
        power {power.state}
      </Badge>
      {withSince && power.reportsState && power.changedAt ? <span className="text-xs text-stone-500">since {formatDateTime(power.changedAt)}</span> : null}
    </span>
  );
}
