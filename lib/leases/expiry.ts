// What the worker does every minute: mail reminders before leases end, and end leases
// whose time is up. Both are safe to run twice and from two workers at once.
import { addReminderSent, listDueLeaseIds, listLeasesToRemind, listLeaseHostRows } from "@/db/queries/leases";
import type { Db } from "../db";
import { getEnv } from "../env";
import { isAppError } from "../errors";
import { SYSTEM } from "../audit/audit";
import { getLogger } from "../log";
import { sendMail } from "../mail/send";
import { leaseReminderMail } from "../mail/templates";
import { absoluteUrl } from "../accounts/links";
import { releaseLease } from "./leases";

export async function expireDueLeases(db: Db, clock: { now?: Date } = {}): Promise<number> {
  const now = clock.now ?? new Date();
  let expired = 0;
  for (const id of await listDueLeaseIds(db, now)) {
    try {
      await releaseLease(db, SYSTEM, id, { now, reason: "expired" });
      expired++;
    } catch (e) {
      // Released by its holder a moment ago: nothing left to do.
      if (!(isAppError(e) && e.code === "conflict")) throw e;
    }
  }
  return expired;
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
          await sendMail(tx, leaseReminderMail(email, { hosts, endsAt: lease.endsAt, now, link: absoluteUrl("/") }));
          sent++;
        });
      } catch (e) {
        getLogger("leases").warn({ leaseId: lease.id, err: (e as Error).message }, "lease reminder not sent; will retry");
      }
    }
  }
  return sent;
}
