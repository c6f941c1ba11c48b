"use client";
import { formatDateTime, formatDuration } from "../ui/format";
import { useNow } from "../ui/use-now";

const HOUR = 3600_000;

/** A live countdown to `endsAt`; amber in the last hour. Before hydration it shows the end time. */
export function TimeLeft({ endsAt }: { endsAt: string }) {
  const now = useNow();
  const end = Date.parse(endsAt);
  if (now === null) {
    return <time dateTime={endsAt}>until {formatDateTime(endsAt)}</time>;
  }
  const left = end - now;
  if (left <= 0) {
    return (
      <time dateTime={endsAt} className="font-semibold text-red-700">
        ending now
      </time>
    );
  }
  return (
    <time dateTime={endsAt} title={`Ends ${formatDateTime(endsAt)}`} className={left < HOUR ? "font-semibold text-amber-700" : "font-semibold text-stone-900"}>
      {formatDuration(left)} left
    </time>
  );
}
