// Lease grants under real concurrency: many transactions on their own connections asking
// one pool for hosts at once. The invariants are checked in SQL (db/queries), not through lib/.
import { afterAll, describe, expect, it } from "vitest";
import { createDb } from "@/db/client";
import { getPoolLeaseFacts, insertLease, insertLeaseHosts, listActiveLeaseHostCounts } from "@/db/queries/leases";
import { countRows } from "@/db/queries/testing";
import { AppError } from "@/lib/errors";
import { useTestDb } from "@/test/harness/database";
import { expectAppError } from "@/test/harness/fixtures";
import { as, hostStates, seedLeaseWorld, type LeaseWorld } from "@/test/harness/inventory";
import { createLease } from "./leases";

const t = await useTestDb();
// The harness handle has a small pool; 40 connections let 40 grants be in flight at once.
const wide = createDb(t.url, { max: 40 });
afterAll(() => wide.close());

type Outcome = { ok: true; leaseId: string; hostCount: number } | { ok: false; error: AppError };

/** Fires every request at once on the wide pool; unexpected (non-AppError) failures fail the test. */
async function fire(world: LeaseWorld, requests: number, count: number): Promise<Outcome[]> {
  const people = world.members.flatMap((m, p) => m.map((user) => ({ user, projectId: world.projects[p]!.id })));
  return Promise.all(
    Array.from({ length: requests }, async (_, i): Promise<Outcome> => {
      const { user, projectId } = people[i % people.length]!;
      try {
        const lease = await createLease(wide.db, as(user), { poolId: world.pool.id, projectId, count, durationHours: 4 });
        return { ok: true, leaseId: lease.id, hostCount: lease.hosts.length };
      } catch (e) {
        if (e instanceof AppError) return { ok: false, error: e };
        throw e;
      }
    }),
  );
}

/** The database's own view of the pool after a race. */
function poolFacts(world: LeaseWorld) {
  return getPoolLeaseFacts(t.db, world.pool.id);
}

function hostsPerActiveLease(world: LeaseWorld): Promise<number[]> {
  return listActiveLeaseHostCounts(t.db, world.pool.id);
}

/** Row counts of everything a grant writes, and every host's state; a refused grant must leave them all unchanged. */
async function footprint() {
  return {
    ...(await countRows(t.db, ["leases", "lease_hosts", "lease_events", "host_events", "audit_log"])),
    states: await hostStates(t.db),
  };
}

describe("lease grants under concurrency", () => {
  it("grants 50 hosts to exactly 50 of 200 simultaneous requests, from many projects at once", async () => {
    // Ten projects: grants of one project are serialised by its row lock, so spreading the
    // requests makes ten of them pick hosts at the same moment (SKIP LOCKED + the unique index).
    const world = await seedLeaseWorld(t.db, { hosts: 50, projects: 10, membersPerProject: 4 });
    const outcomes = await fire(world, 200, 1);

    const granted = outcomes.filter((o) => o.ok);
    const refused = outcomes.flatMap((o) => (o.ok ? [] : [o.error]));
    expect(granted).toHaveLength(50);
    expect(refused).toHaveLength(150);
    for (const e of refused) {
      expect({ code: e.code, message: e.message }).toEqual({
        code: "insufficient_capacity",
        message: `No host available in pool ${world.pool.name} right now. Nothing was leased.`,
      });
    }
    expect(granted.every((g) => g.ok && g.hostCount === 1)).toBe(true);

    expect(await poolFacts(world)).toEqual({
      doubleLeased: 0,
      activeLinks: 50,
      leasedHosts: 50,
      availableHosts: 0,
      leasedWithoutLease: 0,
      linkedNotLeased: 0,
      activeLeases: 50,
      emptyLeases: 0,
    });
  });

  it("refuses a 5-host request when 3 hosts are free, and changes no row", async () => {
    const world = await seedLeaseWorld(t.db, { hosts: 8 });
    const [holder] = world.members[0]!;
    await createLease(t.db, as(holder!), { poolId: world.pool.id, count: 5 });
    const before = await footprint();

    await expectAppError(
      createLease(t.db, as(holder!), { poolId: world.pool.id, count: 5 }),
      "insufficient_capacity",
      `Only 3 hosts available in pool ${world.pool.name} right now; you asked for 5. Nothing was leased.`,
    );
    expect(await footprint()).toEqual(before);
    // The three are still there for a request that fits.
    expect((await createLease(t.db, as(holder!), { poolId: world.pool.id, count: 3 })).hosts).toHaveLength(3);
  });

  it("never leaves a partial lease when 3-host requests race across projects", async () => {
    const world = await seedLeaseWorld(t.db, { hosts: 50, projects: 10, membersPerProject: 1 });
    const outcomes = await fire(world, 30, 3);
    const granted = outcomes.filter((o) => o.ok).length;
    for (const o of outcomes) if (!o.ok) expect(o.error.code).toBe("insufficient_capacity");

    expect(granted).toBeGreaterThan(0);
    expect(granted).toBeLessThanOrEqual(16);
    expect(await hostsPerActiveLease(world)).toEqual(Array(granted).fill(3));
    const facts = await poolFacts(world);
    expect(facts).toMatchObject({ doubleLeased: 0, leasedHosts: 3 * granted, activeLinks: 3 * granted, availableHosts: 50 - 3 * granted, emptyLeases: 0, leasedWithoutLease: 0, linkedNotLeased: 0 });

    // SKIP LOCKED may refuse a request while a competitor holds hosts it later gives back;
    // once the race is over, every remaining triple is grantable.
    const user = world.members[0]![0]!;
    const projectId = world.projects[0]!.id;
    let free = facts.availableHosts;
    while (free >= 3) {
      expect((await createLease(t.db, as(user), { poolId: world.pool.id, projectId, count: 3 })).hosts).toHaveLength(3);
      free -= 3;
    }
    await expectAppError(createLease(t.db, as(user), { poolId: world.pool.id, projectId, count: 3 }), "insufficient_capacity", new RegExp(`^Only ${free} host`));
  });

  it("grants exactly 16 of 30 simultaneous 3-host requests within one project", async () => {
    const world = await seedLeaseWorld(t.db, { hosts: 50, projects: 1, membersPerProject: 5 });
    const outcomes = await fire(world, 30, 3);
    expect(outcomes.filter((o) => o.ok)).toHaveLength(16);
    const messages = outcomes.flatMap((o) => (o.ok ? [] : [o.error.message]));
    expect(messages).toContain(`Only 2 hosts available in pool ${world.pool.name} right now; you asked for 3. Nothing was leased.`);
    expect(await hostsPerActiveLease(world)).toEqual(Array(16).fill(3));
    expect(await poolFacts(world)).toMatchObject({ doubleLeased: 0, leasedHosts: 48, availableHosts: 2, emptyLeases: 0 });
  });

  it("lets the database refuse a second active lease of a host, whatever the code above it does", async () => {
    const world = await seedLeaseWorld(t.db, { hosts: 1 });
    const lease = await createLease(t.db, as(world.members[0]![0]!), { poolId: world.pool.id });
    const now = new Date();
    const other = await insertLease(t.db, { projectId: world.projects[0]!.id, userId: world.members[0]![0]!.id, startsAt: now, endsAt: new Date(now.getTime() + 3600_000) });
    await expect(insertLeaseHosts(t.db, other.id, [lease.hosts[0]!.id], now)).rejects.toMatchObject({ cause: { constraint_name: "lease_hosts_one_active_key" } });
  });
});
