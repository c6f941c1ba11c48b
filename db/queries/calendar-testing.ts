// For the calendar's tests only: a reservation as admission leaves it (its row, its hosts, their
// bookings) and maintenance windows, written directly so the timeline, feed and reminder tests
// do not depend on admission's rules (lib/reservations tests those).
import { sql } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { hostBookings, maintenanceWindows, reservationHosts, reservations, type MaintenanceWindowRow, type ReservationRow } from "../schema";

export async function insertBookedReservation(
  db: DbOrTx,
  p: { projectId: string; userId: string; poolId: string; hostIds: string[]; startsAt: Date; endsAt: Date; title?: string; state?: ReservationRow["state"] },
): Promise<ReservationRow> {
  const [row] = await db
    .insert(reservations)
    .values({ projectId: p.projectId, userId: p.userId, poolId: p.poolId, title: p.title ?? "", count: p.hostIds.length, startsAt: p.startsAt, endsAt: p.endsAt, prepareFrom: p.startsAt, state: p.state ?? "scheduled" })
    .returning();
  await db.insert(reservationHosts).values(p.hostIds.map((hostId) => ({ reservationId: row!.id, hostId })));
  await db.insert(hostBookings).values(
    p.hostIds.map((hostId) => ({ hostId, reservationId: row!.id, during: sql`tstzrange(${p.startsAt.toISOString()}::timestamptz, ${p.endsAt.toISOString()}::timestamptz)` as unknown as string })),
  );
  return row!;
}

export async function insertMaintenance(db: DbOrTx, values: typeof maintenanceWindows.$inferInsert): Promise<MaintenanceWindowRow> {
  const [row] = await db.insert(maintenanceWindows).values(values).returning();
  return row!;
}
