// Reminders before a reservation starts (KILN_RESERVATION_REMINDER_HOURS, e.g. 24 h and 1 h).
// The end is reminded as any lease's end (lib/leases/expiry.ts sendLeaseReminders): a
// reservation becomes a lease at its start, and that lease runs to the reservation's end.
import { addReservationReminderSent, listReservationHostNames, listReservationsToRemind } from "@/db/queries/calendar";
import type { Db } from "../db";
import { getEnv } from "../env";
import { getLogger } from "../log";
import { sendMail } from "../mail/send";
import { reservationReminderMail } from "../mail/reservation-reminder";
import { absoluteUrl } from "../accounts/links";
import { nowOf, type Clock } from "../clock";

/**
 * Mails each holder once per offset. As for leases, the "sent" mark and the mail (an outbox row)
 * share a transaction: a failed mail is retried on the next run, and two workers never both
 * send. A reservation already within a smaller offset is marked for the larger ones too, so one
 * first seen inside its last hour gets one mail, not two.
 */
export async function sendReservationReminders(db: Db, clock: Clock = {}): Promise<number> {
  const now = nowOf(clock);
  let sent = 0;
  const offsets = [...getEnv().KILN_RESERVATION_REMINDER_HOURS].sort((a, b) => a - b);
  for (const hours of offsets) {
    for (const { reservation: r, email, poolName, projectName } of await listReservationsToRemind(db, { now, hours })) {
      try {
        await db.transaction(async (tx) => {
          if (!(await addReservationReminderSent(tx, { reservationId: r.id, hours }))) return;
          for (const larger of offsets.filter((o) => o > hours)) await addReservationReminderSent(tx, { reservationId: r.id, hours: larger });
          const hosts = await listReservationHostNames(tx, r.id);
          await sendMail(
            tx,
            reservationReminderMail(email, { title: r.title, count: r.count, hosts, poolName, projectName, startsAt: r.startsAt, endsAt: r.endsAt, now, link: absoluteUrl(`/reservations/${r.id}`) }),
          );
          sent++;
        });
      } catch (e) {
        getLogger("calendar").warn({ reservationId: r.id, err: (e as Error).message }, "reservation reminder not sent; will retry");
      }
    }
  }
  return sent;
}
