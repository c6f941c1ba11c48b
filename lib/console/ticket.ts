// A console ticket: what the browser presents when it opens the console's WebSocket. The
// portal issues it to the holder (or an admin) after recording the audit entry; the boot
// server, which holds the machine's console, checks it. A WebSocket from a browser carries
// no Authorization header and the boot server has no session store, so the session is
// turned into this short proof: HMAC-SHA256 under KILN_SECRET_KEY (both processes have it)
// of host id, user id, expiry and a nonce. It is good for one upgrade, within TICKET_TTL_MS.
import { randomBytes, timingSafeEqual } from "node:crypto";
import { signLabelled } from "../crypto/sign";
import { AppError } from "../errors";

export const TICKET_TTL_MS = 60_000;

export type ConsoleTicket = { hostId: string; userId: string; expiresAt: number; nonce: string };

function sign(body: string, secret?: string): string {
  return signLabelled("kiln-console-ticket", body, secret);
}

export function createConsoleTicket(p: { hostId: string; userId: string; now?: number; ttlMs?: number; secret?: string }): { ticket: string; expiresAt: Date } {
  const expiresAt = (p.now ?? Date.now()) + (p.ttlMs ?? TICKET_TTL_MS);
  const body = Buffer.from(JSON.stringify({ h: p.hostId, u: p.userId, e: expiresAt, n: randomBytes(12).toString("base64url") })).toString("base64url");
  return { ticket: `${body}.${sign(body, p.secret)}`, expiresAt: new Date(expiresAt) };
}

const REFUSED = "This console ticket is not valid; open the console again from the host page.";

/** The ticket's contents when it is genuine, unexpired and for this host; a 401 with the reason otherwise. */
export function readConsoleTicket(ticket: string, p: { hostId: string; now?: number; secret?: string }): ConsoleTicket {
  const [body, mac, extra] = ticket.split(".");
  if (!body || !mac || extra !== undefined) throw new AppError("unauthorized", REFUSED);
  const want = Buffer.from(sign(body, p.secret));
  const got = Buffer.from(mac);
  if (want.length !== got.length || !timingSafeEqual(want, got)) throw new AppError("unauthorized", REFUSED);
  let t: { h?: unknown; u?: unknown; e?: unknown; n?: unknown };
  try {
    t = JSON.parse(Buffer.from(body, "base64url").toString("utf8"));
  } catch {
    throw new AppError("unauthorized", REFUSED);
  }
  if (typeof t.h !== "string" || typeof t.u !== "string" || typeof t.e !== "number" || typeof t.n !== "string") throw new AppError("unauthorized", REFUSED);
  if (t.h !== p.hostId) throw new AppError("unauthorized", "This console ticket was issued for another host.");
  if ((p.now ?? Date.now()) > t.e) throw new AppError("unauthorized", "This console ticket has expired (they last a minute); open the console again.");
  return { hostId: t.h, userId: t.u, expiresAt: t.e, nonce: t.n };
}

/**
 * The nonces already used, kept until their ticket would have expired anyway. In the memory
 * of the one process that checks tickets (the boot server behind the portal's port), so a
 * ticket opens one WebSocket; a second boot server would keep its own book.
 */
export class TicketBook {
  private used = new Map<string, number>();

  /** true the first time a nonce is presented; false after. */
  consume(t: ConsoleTicket, now = Date.now()): boolean {
    for (const [n, exp] of this.used) if (exp < now) this.used.delete(n);
    if (this.used.has(t.nonce)) return false;
    this.used.set(t.nonce, t.expiresAt);
    return true;
  }
}
