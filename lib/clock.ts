// "Now" for logic that depends on the calendar (quotas per month, expiries, reminders).
// Functions take an optional clock so tests and jobs fix the time; nothing that counts a
// month may read the wall clock on its own, or a test written in one month fails in the next.
export type Clock = { now?: Date };

export function nowOf(clock: Clock = {}): Date {
  return clock.now ?? new Date();
}
