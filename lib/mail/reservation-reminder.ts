// The mail before a reservation starts (lib/calendar/reminders.ts). Its own module beside
// templates.ts, phrased as the lease reminder is ("starts at … UTC (in 24 hours)").
import type { Mail } from "./send";

function describeLeft(ms: number): string {
  const minutes = Math.max(1, Math.round(ms / 60_000));
  if (minutes < 90) return `${minutes} minutes`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} hours` : `${Math.round(hours / 24)} days`;
}

const utc = (d: Date) => d.toISOString().replace("T", " ").slice(0, 16);

export function reservationReminderMail(
  to: string,
  p: { title: string; count: number; hosts: string[]; poolName: string | null; projectName: string; startsAt: Date; endsAt: Date; now: Date; link: string },
): Mail {
  const what = p.title ? `"${p.title}"` : `of ${p.count} host${p.count === 1 ? "" : "s"}${p.poolName ? ` in ${p.poolName}` : ""}`;
  const left = describeLeft(p.startsAt.getTime() - p.now.getTime());
  return {
    to,
    subject: `Your Kiln reservation ${what} starts in ${left}`,
    text:
      `Hello,\n\nYour reservation ${what} starts at ${utc(p.startsAt)} UTC (in ${left}) and ends at ${utc(p.endsAt)} UTC.\n` +
      `Hosts: ${p.hosts.length ? p.hosts.join(", ") : "chosen at the start"}. Project: ${p.projectName}.\n` +
      `At the start it becomes a lease you will find on your dashboard. Cancel it here if you no longer need it, so others can book the time:\n\n${p.link}\n`,
  };
}
