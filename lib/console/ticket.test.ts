import { describe, expect, it } from "vitest";
import { AppError } from "../errors";
import { createConsoleTicket, readConsoleTicket, TicketBook } from "./ticket";

const secret = "a console ticket test key of 32+ characters";
const host = "11111111-1111-4111-8111-111111111111";

describe("console tickets", () => {
  it("reads back what was signed, until the expiry and for that host only", () => {
    const { ticket, expiresAt } = createConsoleTicket({ hostId: host, userId: "u1", now: 1_000, ttlMs: 60_000, secret });
    expect(expiresAt.getTime()).toBe(61_000);
    expect(readConsoleTicket(ticket, { hostId: host, now: 61_000, secret })).toMatchObject({ hostId: host, userId: "u1", expiresAt: 61_000 });
    expect(() => readConsoleTicket(ticket, { hostId: host, now: 61_001, secret })).toThrow(/expired/);
    expect(() => readConsoleTicket(ticket, { hostId: "22222222-2222-4222-8222-222222222222", now: 2_000, secret })).toThrow(/another host/);
    expect(() => readConsoleTicket(ticket, { hostId: host, now: 2_000, secret: `${secret}!` })).toThrow(AppError);
    for (const bad of ["", "x", "a.b.c", `${ticket}x`, ticket.replace(/^./, "A")]) expect(() => readConsoleTicket(bad, { hostId: host, now: 2_000, secret })).toThrow(/not valid|another host|expired/);
  });

  it("a book lets each nonce through once and forgets expired ones", () => {
    const book = new TicketBook();
    const t = { hostId: host, userId: "u1", expiresAt: 10, nonce: "n1" };
    expect(book.consume(t, 5)).toBe(true);
    expect(book.consume(t, 6)).toBe(false);
    // After its expiry the nonce is dropped (the ticket itself is refused as expired by then).
    expect(book.consume({ ...t, nonce: "n2", expiresAt: 100 }, 11)).toBe(true);
    expect((book as unknown as { used: Map<string, number> }).used.has("n1")).toBe(false);
  });
});
