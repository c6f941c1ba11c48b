// Choosing a reservation's hosts: at admission, and again when a promised host fails before the
// start (broken, in maintenance, or under a maintenance window). Picks take no locks; the
// booking insert is the arbiter (host_bookings' exclusion constraint), and a pick that lost a
// race to another admission is retried inside a savepoint, seeing the winner's committed rows.
import { isDeadlock, isExclusionViolation } from "@/db/errors";
import {
  deleteReservationBookings,
  insertReservationBookings,
  insertReservationHosts,
  listFailedReservationHosts,
  listReservationHostRows,
  markReservationHostReplaced,
  pickReservableHosts,
} from "@/db/queries/reservations";
import { getUserById } from "@/db/queries/users";
import type { ReservationCriteria, ReservationRow } from "@/db/schema";
import type { DbOrTx } from "../db";
import { AppError } from "../errors";
import { SYSTEM, type Actor } from "../access/actor";
import { recordAudit } from "../audit/audit";
import { sendMail } from "../mail/send";
import { absoluteUrl } from "../accounts/links";
import { getLogger } from "../log";
import { reservationShortMail } from "./mail";

/** Lost races before giving up. Each loss means another admission committed, so this bounds waiting, not correctness. */
const MAX_PICK_ATTEMPTS = 25;

export type BookParams = {
  reservationId: string;
  poolId: string | null;
  hostIds?: string[];
  excludeHostIds?: string[];
  criteria: ReservationCriteria;
  count: number;
  from: Date;
  to: Date;
  /** all: book `count` or nothing (admission); some: as many as are free (replacements). */
  mode: "all" | "some";
};

function hostCriteriaOf(c: ReservationCriteria) {
  const { hostIds: _named, ...rest } = c;
  return rest;
}

/** Picks and books hosts; returns what was booked (fewer than `count`, unbooked, when mode is all and not enough are free). */
export async function bookReservationHosts(tx: DbOrTx, p: BookParams): Promise<{ booked: { id: string; name: string }[]; free: number }> {
  for (let attempt = 1; ; attempt++) {
    const picked = await pickReservableHosts(tx, {
      poolId: p.poolId ?? undefined,
      hostIds: p.hostIds,
      excludeHostIds: p.excludeHostIds,
      criteria: hostCriteriaOf(p.criteria),
      from: p.from,
      to: p.to,
      count: p.count,
    });
    if (picked.length === 0 || (p.mode === "all" && picked.length < p.count)) return { booked: [], free: picked.length };
    try {
      // Booked in name order by every caller, so two admissions wanting the same hosts wait on
      // each other in one order and do not deadlock.
      await tx.transaction(async (sp) => insertReservationBookings(sp, { reservationId: p.reservationId, hostIds: picked.map((h) => h.id), from: p.from, to: p.to }));
      return { booked: picked, free: picked.length };
    } catch (e) {
      if (!(isExclusionViolation(e) || isDeadlock(e))) throw e;
      if (attempt >= MAX_PICK_ATTEMPTS) {
        throw new AppError("conflict", "Many people are booking these hosts at this moment and Kiln could not settle on free ones. Nothing was reserved; please try again.");
      }
      await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
    }
  }
}

export type RechooseResult = { replaced: { from: string; to: string | null }[]; short: boolean; newlyShort: boolean };

/**
 * Replaces the reservation's hosts that can no longer keep its promise, and tops up one left
 * short by an earlier failure. Runs inside the caller's transaction with the reservation row
 * locked. A reservation that ends up short tells its holder (mail and audit) once, when a host
 * is lost without a replacement, not on every later attempt to top it up.
 */
export async function rechooseReservationHosts(tx: DbOrTx, r: ReservationRow, p: { now: Date; actor?: Actor }): Promise<RechooseResult> {
  const actor = p.actor ?? SYSTEM;
  const failed = await listFailedReservationHosts(tx, r);
  for (const f of failed) {
    await markReservationHostReplaced(tx, { reservationId: r.id, hostId: f.hostId, at: p.now, reason: f.reason });
    await deleteReservationBookings(tx, { reservationId: r.id, hostIds: [f.hostId] });
  }
  const all = await listReservationHostRows(tx, [r.id]);
  const current = all.filter((h) => !h.replacedAt).length;
  const needed = r.count - current;
  let booked: { id: string; name: string }[] = [];
  if (needed > 0 && r.poolId) {
    // Named hosts are replaced from their pool with the same criteria: the promise is the count.
    ({ booked } = await bookReservationHosts(tx, {
      reservationId: r.id,
      poolId: r.poolId,
      excludeHostIds: all.map((h) => h.hostId),
      criteria: r.criteria,
      count: needed,
      from: r.prepareFrom,
      to: r.endsAt,
      mode: "some",
    }));
    await insertReservationHosts(tx, r.id, booked.map((h) => h.id), p.now);
  }
  const replaced = failed.map((f, i) => ({ from: f.name, to: booked[i]?.name ?? null }));
  // Top-ups of an already short reservation beyond the failed ones.
  for (const extra of booked.slice(failed.length)) replaced.push({ from: "(missing)", to: extra.name });
  const short = current + booked.length < r.count;
  const newlyShort = short && failed.length > booked.length;
  if (replaced.length) {
    await recordAudit(tx, actor, {
      action: "reservation.hosts_replaced",
      targetType: "reservation",
      targetId: r.id,
      summary: replaced.map((x) => `${x.from} → ${x.to ?? "none free"}`).join(", ") + (failed.length ? ` (${failed.map((f) => `${f.name}: ${f.reason}`).join("; ")})` : ""),
      data: { replaced, short },
    });
  }
  if (newlyShort) {
    const have = current + booked.length;
    await recordAudit(tx, actor, {
      action: "reservation.short",
      targetType: "reservation",
      targetId: r.id,
      summary: `short of hosts: ${have} of ${r.count} (no replacement free for ${failed.filter((_, i) => !booked[i]).map((f) => f.name).join(", ")})`,
      data: { have, count: r.count },
    });
    const holder = await getUserById(tx, r.userId);
    if (holder) {
      // A mail server that is down must not undo the replacement: the audit entry and the page say it too.
      try {
        await sendMail(tx, reservationShortMail(holder.email, { title: r.title, startsAt: r.startsAt, have, count: r.count, lost: failed.map((f) => `${f.name} (${f.reason})`), link: absoluteUrl(`/reservations/${r.id}`) }));
      } catch (e) {
        getLogger("reservations").warn({ reservationId: r.id, err: (e as Error).message }, "short-reservation mail not sent");
      }
    }
  }
  return { replaced, short, newlyShort };
}
