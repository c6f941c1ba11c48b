// The week view's arithmetic, kept pure (and unit-tested): weeks start on Monday 00:00 in the
// browser's time zone, a slot is one hour, and a drag selects whole hours.
export const HOURS_PER_WEEK = 7 * 24;
const HOUR = 3600_000;

/** Monday 00:00 (local) of the week that holds `at`. */
export function weekStartOf(at: Date): Date {
  const d = new Date(at.getFullYear(), at.getMonth(), at.getDate());
  const sinceMonday = (d.getDay() + 6) % 7;
  d.setDate(d.getDate() - sinceMonday);
  return d;
}

/** The Monday `weeks` weeks away (local dates, so a daylight-saving change keeps midnight). */
export function addWeeks(weekStart: Date, weeks: number): Date {
  const d = new Date(weekStart);
  d.setDate(d.getDate() + 7 * weeks);
  return d;
}

/** The start of slot `index` (0…167) of the week, counted in local hours from Monday 00:00. */
export function slotStart(weekStart: Date, index: number): Date {
  const d = new Date(weekStart);
  d.setDate(d.getDate() + Math.floor(index / 24));
  d.setHours(index % 24, 0, 0, 0);
  return d;
}

/** The slot under a pointer at `x` of a row `width` wide, clamped to the week. */
export function slotAt(x: number, width: number): number {
  return Math.max(0, Math.min(HOURS_PER_WEEK - 1, Math.floor((x / width) * HOURS_PER_WEEK)));
}

/** Where an interval sits in the week, as percentages of the row; null when outside it. */
export function placeInWeek(weekStart: Date, startsAt: Date, endsAt: Date): { left: number; width: number } | null {
  const from = weekStart.getTime();
  const to = addWeeks(weekStart, 1).getTime();
  const s = Math.max(from, startsAt.getTime());
  const e = Math.min(to, endsAt.getTime());
  if (e <= s) return null;
  const span = to - from;
  return { left: ((s - from) / span) * 100, width: ((e - s) / span) * 100 };
}

/** A Date as the value of an <input type="datetime-local"> (local time, to the minute). */
export function toLocalInput(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** An <input type="datetime-local"> value back to a Date (read as local time); null when empty or invalid. */
export function fromLocalInput(value: string): Date | null {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function formatRange(startsAt: Date, endsAt: Date): string {
  const day = (d: Date) => d.toLocaleDateString(undefined, { weekday: "short", day: "numeric", month: "short" });
  const time = (d: Date) => d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
  const sameDay = startsAt.toDateString() === endsAt.toDateString();
  return sameDay ? `${day(startsAt)} ${time(startsAt)}–${time(endsAt)}` : `${day(startsAt)} ${time(startsAt)} – ${day(endsAt)} ${time(endsAt)}`;
}

/** A week's Monday as `YYYY-MM-DD` (local), for the page's `?week=`. */
export function weekParam(weekStart: Date): string {
  return toLocalInput(weekStart).slice(0, 10);
}

/** `?week=` back to the Monday of that week (any day of it will do); null when absent or not a date. */
export function parseWeekParam(value: string | undefined): Date | null {
  const m = value ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(value) : null;
  if (!m) return null;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return Number.isNaN(d.getTime()) || d.getFullYear() < 1970 || d.getFullYear() > 9999 ? null : weekStartOf(d);
}

export { HOUR };
