import { formatHours } from "../ui/format";

export type ProjectQuotas = { maxHosts: number | null; maxLeaseHours: number | null; maxNodeHoursPerMonth: number | null };
export type ProjectUsage = { activeHosts: number; nodeHoursThisMonth: number };

function Meter({ label, used, limit, unit }: { label: string; used: number; limit: number | null; unit: string }) {
  const ratio = limit ? Math.min(1, used / limit) : 0;
  const tone = ratio >= 1 ? "bg-red-500" : ratio >= 0.8 ? "bg-amber-500" : "bg-kiln-500";
  return (
    <div className="space-y-1">
      <div className="flex justify-between text-sm">
        <span className="text-stone-600">{label}</span>
        <span className="font-medium">
          {used.toLocaleString("en")} {limit === null ? unit : `of ${limit.toLocaleString("en")} ${unit}`}
        </span>
      </div>
      {limit === null ? (
        <p className="text-xs text-stone-500">No limit</p>
      ) : (
        <div
          role="meter"
          aria-label={label}
          aria-valuemin={0}
          aria-valuemax={limit}
          aria-valuenow={used}
          className="h-2 overflow-hidden rounded-full bg-stone-100"
        >
          <div className={`h-full ${tone}`} style={{ width: `${ratio * 100}%` }} />
        </div>
      )}
    </div>
  );
}

/** What a project uses against its quotas: hosts held now, node-hours this calendar month (UTC). */
export function ProjectUsagePanel({ quotas, usage }: { quotas: ProjectQuotas; usage: ProjectUsage }) {
  return (
    <div className="space-y-4">
      <Meter label="Hosts held now" used={usage.activeHosts} limit={quotas.maxHosts} unit="hosts" />
      <Meter label="Node-hours this month" used={usage.nodeHoursThisMonth} limit={quotas.maxNodeHoursPerMonth} unit="node-hours" />
      <p className="text-sm text-stone-600">
        Longest lease: <span className="font-medium text-stone-800">{formatHours(quotas.maxLeaseHours)}</span>
        {quotas.maxLeaseHours !== null ? " (or the pool's limit, if shorter)" : " beyond each pool's own limit"}
      </p>
    </div>
  );
}
