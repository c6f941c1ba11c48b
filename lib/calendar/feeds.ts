// ICS feeds: a calendar client cannot sign in, so a feed's address carries a secret token
// (stored as its sha256, shown once). One feed per user and scope: "my bookings" (the user's
// leases and reservations) or one pool's bookings (project names, never people). Creating a
// feed again replaces the old address, so a leaked one is dropped by making a new one.
import ical, { ICalCalendarMethod, ICalEventStatus, type ICalCalendar } from "ical-generator";
import {
  deleteCalendarFeedRow,
  deleteCalendarFeedsOfScope,
  getCalendarFeedByHash,
  insertCalendarFeed,
  listCalendarFeedRows,
  listPoolBookings,
  listPoolMaintenance,
  listPoolHostsForTimeline,
  listUserLeasesForFeed,
  listUserReservationsForFeed,
  touchCalendarFeed,
} from "@/db/queries/calendar";
import { getPoolRow } from "@/db/queries/pools";
import type { Db, DbOrTx } from "../db";
import { AppError } from "../errors";
import { type Actor } from "../access/actor";
import { recordAudit } from "../audit/audit";
import { absoluteUrl } from "../accounts/links";
import { getUserStatus } from "../users/user-view";
import { generateSecret, hashSecret } from "../auth/secrets";
import { nowOf, type Clock } from "../clock";
import { calendarFeedCreateSchema } from "../validation/calendar";
import { parseInput } from "../validation/parse";

export const CALENDAR_TOKEN_PREFIX = "kiln_cal_";
const DAY = 86400_000;
/** What a feed covers: the recent past (so last week's booking stays in the calendar) and the months ahead. */
const FEED_PAST_DAYS = 30;
const FEED_AHEAD_DAYS = 366;
const NOT_FOUND = "This calendar feed does not exist or was revoked.";

function requireSignedIn(actor: Actor): string {
  if (!actor.user) throw new AppError("unauthorized", "Sign in to continue.");
  return actor.user.id;
}

export function calendarFeedUrl(token: string): string {
  return absoluteUrl(`/calendar/${token}.ics`);
}

export async function createCalendarFeed(db: Db, actor: Actor, input: unknown) {
  const userId = requireSignedIn(actor);
  const { poolId = null } = parseInput(calendarFeedCreateSchema, input ?? {});
  const pool = poolId ? await getPoolRow(db, poolId) : null;
  if (poolId && !pool) throw AppError.field("poolId", "That pool does not exist.");
  const token = generateSecret(CALENDAR_TOKEN_PREFIX);
  return db.transaction(async (tx) => {
    const replaced = await deleteCalendarFeedsOfScope(tx, { userId, poolId });
    const row = await insertCalendarFeed(tx, { userId, poolId, tokenHash: hashSecret(token) });
    const what = pool ? `pool ${pool.name}` : "own bookings";
    await recordAudit(tx, actor, {
      action: "calendar_feed.create",
      targetType: "calendar_feed",
      targetId: row.id,
      summary: replaced.length ? `replaced the calendar feed of ${what}` : `created a calendar feed of ${what}`,
      data: { poolId, replaced },
    });
    return { id: row.id, poolId, poolName: pool?.name ?? null, createdAt: row.createdAt, lastUsedAt: null, url: calendarFeedUrl(token) };
  });
}

export async function listCalendarFeeds(db: DbOrTx, actor: Actor) {
  return { data: await listCalendarFeedRows(db, requireSignedIn(actor)) };
}

export async function revokeCalendarFeed(db: Db, actor: Actor, id: string): Promise<void> {
  const userId = requireSignedIn(actor);
  await db.transaction(async (tx) => {
    const row = await deleteCalendarFeedRow(tx, { id, userId });
    if (!row) throw new AppError("not_found", NOT_FOUND);
    await recordAudit(tx, actor, { action: "calendar_feed.revoke", targetType: "calendar_feed", targetId: id, summary: "revoked a calendar feed", data: { poolId: row.poolId } });
  });
}

function hostsLabel(names: string[]): string {
  return names.length ? names.join(", ") : "hosts not chosen yet";
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

async function addOwnBookings(db: DbOrTx, cal: ICalCalendar, userId: string, now: Date): Promise<void> {
  const since = new Date(now.getTime() - FEED_PAST_DAYS * DAY);
  const [leases, reservations] = await Promise.all([listUserLeasesForFeed(db, { userId, since }), listUserReservationsForFeed(db, { userId, since })]);
  for (const l of leases) {
    cal.createEvent({
      id: `lease-${l.id}@kiln`,
      stamp: now,
      start: l.startsAt,
      end: l.endedAt && l.endedAt < l.endsAt ? l.endedAt : l.endsAt,
      summary: `Kiln lease: ${hostsLabel(l.hostNames)}`,
      description: `Lease of ${hostsLabel(l.hostNames)}${l.poolName ? ` from pool ${l.poolName}` : ""}, charged to project ${l.projectName} (${l.state}).`,
      url: absoluteUrl("/"),
      status: l.state === "active" ? ICalEventStatus.CONFIRMED : null,
    });
  }
  for (const r of reservations) {
    const what = r.title || `${plural(r.count, "host")}${r.poolName ? ` of ${r.poolName}` : ""}`;
    cal.createEvent({
      id: `reservation-${r.id}@kiln`,
      stamp: now,
      start: r.startsAt,
      end: r.endsAt,
      summary: `Kiln reservation: ${what}`,
      description: `Reservation of ${plural(r.count, "host")} (${hostsLabel(r.hostNames)})${r.poolName ? ` in pool ${r.poolName}` : ""}, charged to project ${r.projectName} (${r.state}).`,
      url: absoluteUrl(`/reservations/${r.id}`),
      status: r.state === "failed" ? ICalEventStatus.CANCELLED : ICalEventStatus.CONFIRMED,
    });
  }
}

/** The pool's bookings, one event per lease or reservation (its hosts listed), and its maintenance. */
async function addPoolBookings(db: DbOrTx, cal: ICalCalendar, poolId: string, now: Date): Promise<void> {
  const span = { poolId, from: new Date(now.getTime() - FEED_PAST_DAYS * DAY), to: new Date(now.getTime() + FEED_AHEAD_DAYS * DAY) };
  const [hosts, bookings, windows] = await Promise.all([listPoolHostsForTimeline(db, poolId), listPoolBookings(db, span), listPoolMaintenance(db, span)]);
  const hostName = new Map(hosts.map((h) => [h.id, h.name]));
  const grouped = new Map<string, { kind: "lease" | "reservation"; id: string; projectName: string | null; start: Date; end: Date; hosts: string[] }>();
  for (const b of bookings) {
    const kind = b.leaseId ? "lease" : "reservation";
    const id = (b.leaseId ?? b.reservationId)!;
    const g = grouped.get(`${kind}-${id}`) ?? { kind, id, projectName: b.projectName, start: b.startsAt, end: b.endsAt, hosts: [] };
    if (b.startsAt < g.start) g.start = b.startsAt;
    if (b.endsAt > g.end) g.end = b.endsAt;
    g.hosts.push(hostName.get(b.hostId) ?? b.hostId);
    grouped.set(`${kind}-${id}`, g);
  }
  for (const g of grouped.values()) {
    const project = g.projectName ?? "a project";
    cal.createEvent({
      id: `${g.kind}-${g.id}@kiln`,
      stamp: now,
      start: g.start,
      end: g.end,
      summary: `${project}: ${plural(g.hosts.length, "host")} (${g.kind})`,
      description: `${g.kind === "lease" ? "Leased" : "Reserved"} for project ${project}: ${g.hosts.join(", ")}.`,
      url: absoluteUrl(`/pools/${poolId}/calendar`),
    });
  }
  for (const w of windows) {
    const target = w.hostId ? (hostName.get(w.hostId) ?? "a host") : "the whole pool";
    cal.createEvent({
      id: `maintenance-${w.id}@kiln`,
      stamp: now,
      start: w.startsAt,
      end: w.endsAt,
      summary: `Maintenance: ${target}`,
      description: w.reason ? `Maintenance of ${target}: ${w.reason}` : `Maintenance of ${target}.`,
      url: absoluteUrl(`/pools/${poolId}/calendar`),
    });
  }
}

/**
 * The feed behind a token, as text/calendar. Any failure to find it (unknown token, revoked,
 * its owner disabled) is the same 404, so the address says nothing more than "no".
 */
export async function renderCalendarFeed(db: DbOrTx, token: string, clock: Clock = {}): Promise<string> {
  if (!token.startsWith(CALENDAR_TOKEN_PREFIX)) throw new AppError("not_found", NOT_FOUND);
  const found = await getCalendarFeedByHash(db, hashSecret(token));
  if (!found || getUserStatus(found.user) !== "active") throw new AppError("not_found", NOT_FOUND);
  const now = nowOf(clock);
  const { feed } = found;
  const cal = ical({
    name: feed.poolId ? `Kiln: pool ${found.poolName}` : "Kiln: my bookings",
    prodId: { company: "Kiln", product: "calendar", language: "EN" },
    method: ICalCalendarMethod.PUBLISH,
    // Calendar clients poll; bookings change by the hour, so 15 minutes is fresh enough.
    ttl: 15 * 60,
  });
  if (feed.poolId) await addPoolBookings(db, cal, feed.poolId, now);
  else await addOwnBookings(db, cal, feed.userId, now);
  // Coarse "last used" (one write a minute at most): calendar clients poll often.
  if (!feed.lastUsedAt || now.getTime() - feed.lastUsedAt.getTime() > 60_000) await touchCalendarFeed(db, feed.id, now);
  return cal.toString();
}
