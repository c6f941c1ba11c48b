// The "ready at the start" plan in words for the reservation's page: when the hosts are taken,
// how long before the start, and on what that lead rests (lib/reservations/ready.ts planDeployLead).
import type { ReservationPlan } from "@/db/schema";

function minutesText(seconds: number): string {
  const m = Math.round(seconds / 60);
  if (m < 60) return `${m} min`;
  return m % 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m / 60} h`;
}

/** planDeployLead's basis as the end of a sentence ("p90 of 12 finished runs of … + 20% + 5 min"). */
function basisText(plan: Pick<ReservationPlan, "basis" | "leadSeconds">): string {
  if (plan.basis.startsWith("measured: ")) return plan.basis.slice("measured: ".length).replace(/, \+ 20% \+ 5 min$/, " + a margin of 20% and 5 min");
  if (plan.basis.startsWith("default: ")) return `the default lead: ${plan.basis.slice("default: ".length)}`;
  return plan.basis;
}

/**
 * "Hosts taken at 08:21, 39 min before the start: p90 of 12 finished runs of this image version on
 * these hosts (27 min) + a margin of 20% and 5 min". A booking made less than the lead before
 * its start takes the hosts when it is made (prepareFrom is never in the past), and says so.
 */
export function describeReadyPlan(p: { startsAt: string; prepareFrom: string; plan: Pick<ReservationPlan, "basis" | "leadSeconds"> }, formatTime: (iso: string) => string): string {
  const leadSeconds = (new Date(p.startsAt).getTime() - new Date(p.prepareFrom).getTime()) / 1000;
  const taken = `Hosts taken at ${formatTime(p.prepareFrom)}, ${minutesText(leadSeconds)} before the start`;
  const short = leadSeconds + 60 < p.plan.leadSeconds;
  return short
    ? `${taken}, when it was booked: the planned ${minutesText(p.plan.leadSeconds)} (${basisText(p.plan)}) did not fit`
    : `${taken}: ${basisText(p.plan)}`;
}
