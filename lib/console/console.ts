// The serial console in the browser: who may open it (the host's holder and admins), the
// audit entry, and the ticket the WebSocket presents to the boot server (./ticket.ts).
import { getHostRow } from "@/db/queries/hosts";
import { getUserById } from "@/db/queries/users";
import type { Db } from "../db";
import { AppError } from "../errors";
import { type Actor } from "../access/actor";
import { recordAudit } from "../audit/audit";
import { assertHostHolder } from "../access/hosts";
import { getUserStatus } from "../users/user-view";
import { CONSOLE_PATH_PREFIX } from "./paths";
import { consoleSpecOf, hasConsole, type ConsoleSpec } from "./sources";
import { createConsoleTicket, readConsoleTicket, type TicketBook } from "./ticket";


export type ConsoleTicketView = { ticket: string; url: string; expiresAt: string; kind: ConsoleSpec["kind"] };

/**
 * POST /api/v1/hosts/:id/console — a ticket for one console WebSocket, for the holder or an
 * admin. Every opening is audited (who watched and could type into which machine, when).
 */
export async function issueConsoleTicket(db: Db, actor: Actor, hostId: string): Promise<ConsoleTicketView> {
  if (!actor.user) throw new AppError("unauthorized", "Sign in to open a console.");
  await assertHostHolder(db, actor, hostId);
  const host = (await getHostRow(db, hostId))!;
  const spec = consoleSpecOf(host);
  if (!hasConsole(spec)) throw new AppError("conflict", spec.none);
  const { ticket, expiresAt } = createConsoleTicket({ hostId, userId: actor.user.id });
  await recordAudit(db, actor, {
    action: "host.console",
    targetType: "host",
    targetId: hostId,
    summary: `Opened the serial console of ${host.name} (${spec.kind === "qemu" ? "QEMU serial port" : "IPMI Serial-over-LAN"})`,
    data: { kind: spec.kind },
  });
  return { ticket, url: `${CONSOLE_PATH_PREFIX}${hostId}?ticket=${encodeURIComponent(ticket)}`, expiresAt: expiresAt.toISOString(), kind: spec.kind };
}

/**
 * The boot server's check when a WebSocket arrives: the ticket is genuine, unexpired, for this
 * host and unused, and its user still holds the host (or is an admin) and may sign in — a lease
 * released within the ticket's minute closes the door too.
 */
export async function admitConsoleTicket(db: Db, book: TicketBook, p: { hostId: string; ticket: string; ip: string | null; now?: number }): Promise<{ userId: string }> {
  const t = readConsoleTicket(p.ticket, { hostId: p.hostId, now: p.now });
  if (!book.consume(t, p.now)) throw new AppError("unauthorized", "This console ticket was already used; open the console again.");
  const user = await getUserById(db, t.userId);
  if (!user || getUserStatus(user) !== "active") throw new AppError("unauthorized", "The account this console ticket was issued to can no longer sign in.");
  await assertHostHolder(db, { user, ip: p.ip }, p.hostId);
  return { userId: user.id };
}

/**
 * Whether a viewer may stay attached: still an active account that holds the host (or an
 * admin). Checked again while the WebSocket is open, so a lease that ends ends the watching.
 */
export async function isStillConsoleViewer(db: Db, p: { hostId: string; userId: string }): Promise<boolean> {
  const user = await getUserById(db, p.userId);
  if (!user || getUserStatus(user) !== "active") return false;
  try {
    await assertHostHolder(db, { user, ip: null }, p.hostId);
    return true;
  } catch (e) {
    if (e instanceof AppError) return false;
    throw e;
  }
}

export type ConsoleAvailability = { available: boolean; kind: ConsoleSpec["kind"] | null; reason: string | null };

/** What the host page's Console card offers this holder or admin. */
export async function getConsoleAvailability(db: Db, actor: Actor, hostId: string): Promise<ConsoleAvailability> {
  await assertHostHolder(db, actor, hostId);
  const host = (await getHostRow(db, hostId))!;
  const spec = consoleSpecOf(host);
  return hasConsole(spec) ? { available: true, kind: spec.kind, reason: null } : { available: false, kind: null, reason: spec.none };
}
