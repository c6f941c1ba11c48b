// Mails about a reservation that are the reservations core's own (reminders are the calendar's).
import type { Mail } from "../mail/send";

function utc(d: Date): string {
  return `${d.toISOString().replace("T", " ").slice(0, 16)} UTC`;
}

/** A promised host failed before the start and no other was free to take its place. */
export function reservationShortMail(to: string, p: { title: string; startsAt: Date; have: number; count: number; lost: string[]; link: string }): Mail {
  const name = p.title ? `“${p.title}”` : `of ${utc(p.startsAt)}`;
  return {
    to,
    subject: `Your Kiln reservation ${name} is short of hosts: ${p.have} of ${p.count}`,
    text:
      `Hello,\n\nA host promised to your reservation ${name} can no longer be given to you: ${p.lost.join(", ")}.\n` +
      `No other matching host is free for the whole of its time, so it now has ${p.have} of the ${p.count} hosts you reserved.\n` +
      `Kiln keeps looking until the start and adds a host if one becomes free. You can also cancel the reservation and book another time:\n\n${p.link}\n`,
  };
}
