// Lease grants under real concurrency: many transactions on their own connections asking
// one pool for hosts at once. The invariants are checked in SQL, not through lib/.
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { createDb } from "@/db/client";
import { AppError } from "@/lib/errors";
import { useTestDb } from "@/test/harness/database";
import { expectAppError } from "@/test/harness/fixtures";
import { as, seedLeaseWorld, type LeaseWorld } from "@/test/harness/inventory";
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
async function poolFacts(world: LeaseWorld) {
  const [facts] = await t.db.execute<{
    double_leased: number;
    active_links: number;
    leased_hosts: number;
    available_hosts: number;
    leased_without_lease: number;
    linked_not_leased: number;
    active_leases: number;
    empty_leases: number;
  }>(sql`
    with pool_hosts as (select id, state from hosts where pool_id = ${world.pool.id}),
         active as (select lh.host_id, lh.lease_id from lease_hosts lh join pool_hosts h on h.id = lh.host_id where lh.released_at is null)
    select
      (select count(*)::int from (select host_id from active group by host_id having count(*) > 1) d) as double_leased,
      (select count(*)::int from active) as active_links,
      (select count(*)::int from pool_hosts where state = 'leased') as leased_hosts,
      (select count(*)::int from pool_hosts where state = 'available') as available_hosts,
      (select count(*)::int from pool_hosts h where h.state = 'leased' and not exists (select 1 from active a where a.host_id = h.id)) as leased_without_lease,
      (select count(*)::int from active a join pool_hosts h on h.id = a.host_id where h.state <> 'leased') as linked_not_leased,
      (select count(*)::int from leases where pool_id = ${world.pool.id} and state = 'active') as active_leases,
      (select count(*)::int from leases l where l.pool_id = ${world.pool.id} and not exists (select 1 from lease_hosts lh where lh.lease_id = l.id)) as empty_leases`);
  return facts!;
}

async function hostsPerActiveLease(world: LeaseWorld): Promise<number[]> {
  const rows = await t.db.execute<{ n: number }>(sql`
    select count(lh.host_id)::int as n from leases l left join lease_hosts lh on lh.lease_id = l.id and lh.released_at is null
    where l.pool_id = ${world.pool.id} and l.state = 'active' group by l.id`);
  return rows.map((r) => r.n);
}

/** Row counts of everything a grant writes; a refused grant must leave them all unchanged. */
async function footprint() {
  const [row] = await t.db.execute(sql`
    select (select count(*)::int from leases) as leases, (select count(*)::int from lease_hosts) as lease_hosts,
           (select count(*)::int from lease_events) as lease_events, (select count(*)::int from host_events) as host_events,
           (select count(*)::int from audit_log) as audit, (select string_agg(id::text || state::text, ',' order by id) from hosts) as states`);
  return row;
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
      double_leased: 0,
      active_links: 50,
      leased_hosts: 50,
      available_hosts: 0,
      leased_without_lease: 0,
      linked_not_leased: 0,
      active_leases: 50,
      empty_leases: 0,
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
    expect(facts).toMatchObject({ double_leased: 0, leased_hosts: 3 * granted, active_links: 3 * granted, available_hosts: 50 - 3 * granted, empty_leases: 0, leased_without_lease: 0, linked_not_leased: 0 });

    // SKIP LOCKED may refuse a request while a competitor holds hosts it later gives back;
    // once the race is over, every remaining triple is grantable.
    const user = world.members[0]![0]!;
    const projectId = world.projects[0]!.id;
    let free = facts.available_hosts;
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
    expect(await poolFacts(world)).toMatchObject({ double_leased: 0, leased_hosts: 48, available_hosts: 2, empty_leases: 0 });
  });

  it("lets the database refuse a second active lease of a host, whatever the code above it does", async () => {
    const world = await seedLeaseWorld(t.db, { hosts: 1 });
    const lease = await createLease(t.db, as(world.members[0]![0]!), { poolId: world.pool.id });
    const other = await t.db.execute<{ id: string }>(
      sql`insert into leases (project_id, user_id, starts_at, ends_at) values (${world.projects[0]!.id}, ${world.members[0]![0]!.id}, now(), now() + interval '1 hour') returning id`,
    );
    await expect(
      t.db.execute(sql`insert into lease_hosts (lease_id, host_id, added_at) values (${other[0]!.id}, ${lease.hosts[0]!.id}, now())`),
    ).rejects.toMatchObject({ cause: { constraint_name: "lease_hosts_one_active_key" } });
  });
});
