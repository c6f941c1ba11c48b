// "Now" for logic that depends on the calendar (quotas per month, expiries, reminders).
// Functions take an optional clock so tests and jobs fix the time; nothing that counts a
// month may read the wall clock on its own, or a test written in one month fails in the next.
export type Clock = { now?: Date };

export function nowOf(clock: Clock = {}): Date {
  return clock.now ?? new Date();
}

/** A time as people read it in messages: "2026-05-04 13:00" (UTC; the caller says so). */
export function isoMinute(d: Date): string {
  return d.toISOString().replace("T", " ").slice(0, 16);
}
