// Admission under real concurrency: 200 requests on their own connections for overlapping
// intervals of a small pool, from many projects at once (one project's admissions are
// serialised by its row lock; different projects race on hosts, which the exclusion constraint
// settles). The invariants are checked in SQL (db/queries getPoolBookingFacts).
import { afterAll, describe, expect, it } from "vitest";
import { createDb } from "@/db/client";
import { getPoolBookingFacts, insertReservation, insertReservationBookings, listReservationBookings } from "@/db/queries/reservations";
import { countLockWaiters } from "@/db/queries/testing";
import { AppError } from "@/lib/errors";
import { useTestDb } from "@/test/harness/database";
import { as, hoursAfter, seedLeaseWorld } from "@/test/harness/inventory";
import { createReservation } from "./reservations";

const t = await useTestDb();
const wide = createDb(t.url, { max: 40 });
afterAll(() => wide.close());

const T0 = new Date("2026-11-10T10:00:00Z");

/** Resolves once `n` sessions of this database wait for a lock. */
async function waitForLockWaiters(n: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const waiting = await countLockWaiters(t.db);
    if (waiting >= n) return;
    if (Date.now() > deadline) throw new Error(`expected ${n} sessions waiting for a lock, saw ${waiting}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("reservation admission under concurrency", () => {
  it("retries the pick when another admission booked the same host first (23P01 inside a savepoint) and takes the next host", async () => {
    const world = await seedLeaseWorld(t.db, { hosts: 2, projects: 2 });
    const [first, second] = world.hosts;
    const from = hoursAfter(T0, 24);
    const to = hoursAfter(T0, 26);
    // Another admission, still open: it has booked the first host but not committed.
    let commit!: () => void;
    const gate = new Promise<void>((r) => (commit = r));
    let booked!: () => void;
    const isBooked = new Promise<void>((r) => (booked = r));
    const other = wide.db.transaction(async (tx) => {
      const r = await insertReservation(tx, { projectId: world.projects[1]!.id, userId: world.members[1]![0]!.id, poolId: world.pool.id, count: 1, startsAt: from, endsAt: to, prepareFrom: from });
      await insertReservationBookings(tx, { reservationId: r.id, hostIds: [first!.id], from, to });
      booked();
      await gate;
    });
    await isBooked;
    // This admission cannot see that booking, picks the same host, and waits on the constraint…
    const mine = createReservation(wide.db, as(world.members[0]![0]!), { poolId: world.pool.id, startsAt: from.toISOString(), endsAt: to.toISOString() }, { now: T0 });
    await waitForLockWaiters(1);
    // …until the other commits: then its insert fails (23P01), and the retried pick takes the second host.
    commit();
    await other;
    const r = await mine;
    expect(r.hosts.map((h) => h.id)).toEqual([second!.id]);
    expect(await listReservationBookings(t.db, r.id)).toEqual([{ hostId: second!.id, from, to }]);
    expect((await getPoolBookingFacts(t.db, world.pool.id)).overlapping).toBe(0);
  });

  it("admits exactly as many of 200 simultaneous overlapping requests as there are hosts, with no host booked twice", async () => {
    const HOSTS = 8;
    const world = await seedLeaseWorld(t.db, { hosts: HOSTS, projects: 10, membersPerProject: 2 });
    const people = world.members.flatMap((m, p) => m.map((user) => ({ user, projectId: world.projects[p]!.id })));
    // Every interval contains [T0+24h, T0+25h): all 200 overlap there, so at most HOSTS can be
    // admitted; and a request is refused only when every host is booked in its interval, so
    // exactly HOSTS are.
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const { user, projectId } = people[i % people.length]!;
        const start = hoursAfter(T0, 24 - (i % 5));
        const end = hoursAfter(T0, 25 + (i % 7));
        try {
          const r = await createReservation(wide.db, as(user), { poolId: world.pool.id, projectId, startsAt: start.toISOString(), endsAt: end.toISOString() }, { now: T0 });
          return { ok: true as const, hosts: r.hosts.length };
        } catch (e) {
          if (e instanceof AppError) return { ok: false as const, error: e };
          throw e;
        }
      }),
    );
    const admitted = outcomes.filter((o) => o.ok);
    const refused = outcomes.flatMap((o) => (o.ok ? [] : [o.error]));
    expect(admitted).toHaveLength(HOSTS);
    expect(admitted.every((o) => o.ok && o.hosts === 1)).toBe(true);
    expect(refused).toHaveLength(200 - HOSTS);
    expect(new Set(refused.map((e) => e.code))).toEqual(new Set(["insufficient_capacity"]));
    expect(await getPoolBookingFacts(t.db, world.pool.id)).toEqual({
      overlapping: 0,
      bookings: HOSTS,
      reservationBookings: HOSTS,
      currentHosts: HOSTS,
      hostsWithoutBooking: 0,
      reservationsAdmitted: HOSTS,
    });
  }, 120_000);

  it("admits back-to-back slots of one host from 100 simultaneous requests, one per slot", async () => {
    const world = await seedLeaseWorld(t.db, { hosts: 1, projects: 10, membersPerProject: 1 });
    // 20 one-hour slots, each asked for 5 times.
    const outcomes = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const slot = i % 20;
        const p = i % 10;
        try {
          await createReservation(wide.db, as(world.members[p]![0]!), { poolId: world.pool.id, startsAt: hoursAfter(T0, 2 + slot).toISOString(), endsAt: hoursAfter(T0, 3 + slot).toISOString() }, { now: T0 });
          return true;
        } catch (e) {
          if (e instanceof AppError) return false;
          throw e;
        }
      }),
    );
    expect(outcomes.filter(Boolean)).toHaveLength(20);
    expect(await getPoolBookingFacts(t.db, world.pool.id)).toMatchObject({ overlapping: 0, bookings: 20, currentHosts: 20, hostsWithoutBooking: 0 });
  }, 120_000);
});
