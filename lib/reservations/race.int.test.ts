// Admission under real concurrency: 200 requests on their own connections for overlapping
// intervals of a small pool, from many projects at once (one project's admissions are
// serialised by its row lock; different projects race on hosts, which the exclusion constraint
// settles). The invariants are checked in SQL (db/queries getPoolBookingFacts).
import { afterAll, describe, expect, it } from "vitest";
import { createDb } from "@/db/client";
import { getPoolBookingFacts } from "@/db/queries/reservations";
import { AppError } from "@/lib/errors";
import { useTestDb } from "@/test/harness/database";
import { as, hoursAfter, seedLeaseWorld } from "@/test/harness/inventory";
import { createReservation } from "./reservations";

const t = await useTestDb();
const wide = createDb(t.url, { max: 40 });
afterAll(() => wide.close());

const T0 = new Date("2026-11-10T10:00:00Z");

describe("reservation admission under concurrency", () => {
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
