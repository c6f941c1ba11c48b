// What the worker does every minute: mail reminders before leases end, and end leases
// whose time is up. Both are safe to run twice and from two workers at once.
import { addReminderSent, listLeasesToRemind, listLeaseHostRows } from "@/db/queries/leases";
import { getPoolRow } from "@/db/queries/pools";
import type { Db } from "../db";
import { getEnv } from "../env";
import { getLogger } from "../log";
import { sendMail } from "../mail/send";
import { leaseReminderMail } from "../mail/templates";
import { absoluteUrl } from "../accounts/links";
import { markWarned } from "./end-stage";
import { advanceLeaseEnds } from "./staged-end";

/**
 * Ends leases whose time is up, through the staged end (./staged-end.ts): a lease of a pool
 * with a grace period enters it first; the others (and those whose grace is over) are
 * released. Returns how many leases were released now.
 */
export async function expireDueLeases(db: Db, clock: { now?: Date } = {}): Promise<number> {
  return (await advanceLeaseEnds(db, clock)).expired;
}

/**
 * Mails each holder once per configured offset (KILN_LEASE_REMINDER_HOURS, e.g. 24 h and
 * 1 h before the end). The "sent" mark and the mail share a transaction: a failed mail is
 * retried on the next run, and two workers never both send.
 */
export async function sendLeaseReminders(db: Db, clock: { now?: Date } = {}): Promise<number> {
  const now = clock.now ?? new Date();
  let sent = 0;
  const offsets = [...getEnv().KILN_LEASE_REMINDER_HOURS].sort((a, b) => a - b);
  for (const hours of offsets) {
    for (const { lease, email } of await listLeasesToRemind(db, { now, hours })) {
      try {
        await db.transaction(async (tx) => {
          if (!(await addReminderSent(tx, { leaseId: lease.id, hours }))) return;
          // A lease that is within the 1 h reminder no longer needs the 24 h one.
          for (const larger of offsets.filter((o) => o > hours)) await addReminderSent(tx, { leaseId: lease.id, hours: larger });
          const hosts = (await listLeaseHostRows(tx, [lease.id])).filter((h) => !h.releasedAt).map((h) => h.name);
          // The first stage of the end: the mail offers a capture of the disk, one click to the
          // lease's capture dialog (always: before the end a capture needs no grace period).
          await markWarned(tx, lease, now);
          const graceMinutes = lease.poolId ? ((await getPoolRow(tx, lease.poolId))?.endGraceMinutes ?? 0) : 0;
          const capture = { link: absoluteUrl(`/?capture=${lease.id}`), graceMinutes };
          await sendMail(tx, leaseReminderMail(email, { hosts, endsAt: lease.endsAt, now, link: absoluteUrl("/"), capture }));
          sent++;
        });
      } catch (e) {
        getLogger("leases").warn({ leaseId: lease.id, err: (e as Error).message }, "lease reminder not sent; will retry");
      }
    }
  }
  return sent;
}
