// A pool's timeline: its hosts as rows, and who holds each when (leases, reservations,
// maintenance). Everyone signed in may see it, as they see the pool's free count: booking
// ahead needs to see what is taken. What they see of others' bookings is the project charged,
// never the person (the issue: "say whose time it would take (project, not person)").
import { listPoolBookings, listPoolHostsForTimeline, listPoolMaintenance } from "@/db/queries/calendar";
import { getPoolRow } from "@/db/queries/pools";
import type { DbOrTx } from "../db";
import { AppError } from "../errors";
import { isAdmin, type Actor } from "../access/actor";
import { nowOf, type Clock } from "../clock";
import { timelineQuerySchema, type TimelineItem } from "../validation/calendar";
import { parseInput } from "../validation/parse";

const DAY = 86400_000;

/** The span asked for, or the 7 days from the current hour. */
export function timelineSpan(query: { from?: Date; to?: Date }, clock: Clock = {}): { from: Date; to: Date } {
  const from = query.from ?? new Date(Math.floor(nowOf(clock).getTime() / 3600_000) * 3600_000);
  const to = query.to ?? new Date(from.getTime() + 7 * DAY);
  return { from, to };
}

export async function getPoolTimeline(db: DbOrTx, actor: Actor, poolId: string, input: unknown, clock: Clock = {}) {
  if (!actor.user && !actor.isSystem) throw new AppError("unauthorized", "Sign in to continue.");
  const query = parseInput(timelineQuerySchema, input);
  const { from, to } = timelineSpan(query, clock);
  const pool = await getPoolRow(db, poolId);
  if (!pool) throw new AppError("not_found", "That pool does not exist.");
  const admin = isAdmin(actor);
  const me = actor.user?.id;

  const [hosts, bookings, windows] = await Promise.all([
    listPoolHostsForTimeline(db, poolId),
    listPoolBookings(db, { poolId, from, to }),
    listPoolMaintenance(db, { poolId, from, to }),
  ]);

  const items: TimelineItem[] = bookings.map((b) => {
    const mine = b.userId === me;
    const isLease = b.leaseId !== null;
    return {
      kind: isLease ? "lease" : "reservation",
      id: (b.leaseId ?? b.reservationId)!,
      hostId: b.hostId,
      startsAt: b.startsAt,
      endsAt: b.endsAt,
      projectName: b.projectName,
      mine,
      // A title is free text its holder wrote and may name people: theirs and the admins' to read.
      title: !isLease && (mine || admin) ? b.reservationTitle || null : null,
      state: isLease ? b.leaseState : b.reservationState,
    };
  });
  for (const w of windows) {
    items.push({ kind: "maintenance", id: w.id, hostId: w.hostId, startsAt: w.startsAt, endsAt: w.endsAt, projectName: null, mine: false, title: w.reason || null, state: null });
  }
  return { pool: { id: pool.id, name: pool.name }, from, to, hosts, items };
}
