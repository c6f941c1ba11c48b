// Project quotas and lease-length policy, with a fixed clock: hosts at once, lease length
// (the stricter of pool and project wins), node-hours per calendar month, and extensions.
import { describe, expect, it } from "vitest";
import { createDb } from "@/db/client";
import { getLeaseRow } from "@/db/queries/leases";
import { AppError } from "@/lib/errors";
import { getProject } from "@/lib/projects/projects";
import { useTestDb } from "@/test/harness/database";
import { expectAppError } from "@/test/harness/fixtures";
import { as, hoursAfter, seedLeaseWorld } from "@/test/harness/inventory";
import { createLease, extendLease, releaseLease } from "./leases";

const t = await useTestDb();
const NOW = new Date("2026-11-10T10:00:00Z");

describe("project quotas", () => {
  it("caps the hosts a project holds at once, across its members", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 10, membersPerProject: 2, quotas: { maxHosts: 3 } });
    const [ann, ben] = w.members[0]!;
    const project = w.projects[0]!;
    const first = await createLease(t.db, as(ann!), { poolId: w.pool.id, count: 2 }, { now: NOW });

    const err = await expectAppError(
      createLease(t.db, as(ben!), { poolId: w.pool.id, count: 2 }, { now: NOW }),
      "quota_exceeded",
      `Project ${project.name} may hold at most 3 hosts at once; it holds 2 and this request needs 2 more.`,
    );
    expect(err.details).toEqual({ quota: "maxHosts", limit: 3, used: 2, requested: 2 });
    expect(err.status).toBe(403);

    await createLease(t.db, as(ben!), { poolId: w.pool.id, count: 1 }, { now: NOW });
    await expectAppError(createLease(t.db, as(ben!), { poolId: w.pool.id }, { now: NOW }), "quota_exceeded", /holds 3 and this request needs 1 more/);
    // Released hosts no longer count.
    await releaseLease(t.db, as(ann!), first.id, { now: NOW });
    expect((await createLease(t.db, as(ben!), { poolId: w.pool.id, count: 2 }, { now: NOW })).hosts).toHaveLength(2);
  });

  it("holds the host cap when a project's members ask at the same moment", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 20, membersPerProject: 5, quotas: { maxHosts: 3 } });
    const wide = createDb(t.url, { max: 12 });
    try {
      const results = await Promise.allSettled(
        Array.from({ length: 12 }, (_, i) => createLease(wide.db, as(w.members[0]![i % 5]!), { poolId: w.pool.id }, { now: NOW })),
      );
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(3);
      for (const r of results) if (r.status === "rejected") expect((r.reason as AppError).code).toBe("quota_exceeded");
    } finally {
      await wide.close();
    }
    expect((await getProject(t.db, w.adminActor, w.projects[0]!.id)).usage.activeHosts).toBe(3);
  });

  it("limits the lease length to the stricter of the pool's and the project's maximum", async () => {
    // Project stricter than pool.
    const a = await seedLeaseWorld(t.db, { hosts: 3, pool: { defaultLeaseHours: 24, maxLeaseHours: 48 }, quotas: { maxLeaseHours: 12 } });
    const annA = as(a.members[0]![0]!);
    await expectAppError(
      createLease(t.db, annA, { poolId: a.pool.id, durationHours: 24 }, { now: NOW }),
      "quota_exceeded",
      `Project ${a.projects[0]!.name} allows leases of at most 12 hours; you asked for 24 hours.`,
    );
    // Without a duration, the pool's default is cut to what the project allows.
    const byDefault = await createLease(t.db, annA, { poolId: a.pool.id }, { now: NOW });
    expect(byDefault.endsAt).toBe(hoursAfter(NOW, 12).toISOString());
    expect((await createLease(t.db, annA, { poolId: a.pool.id, durationHours: 12 }, { now: NOW })).endsAt).toBe(hoursAfter(NOW, 12).toISOString());

    // Pool stricter than project.
    const b = await seedLeaseWorld(t.db, { hosts: 3, pool: { defaultLeaseHours: 4, maxLeaseHours: 8 }, quotas: { maxLeaseHours: 12 } });
    const annB = as(b.members[0]![0]!);
    const err = await expectAppError(
      createLease(t.db, annB, { poolId: b.pool.id, durationHours: 10 }, { now: NOW }),
      "quota_exceeded",
      `Pool ${b.pool.name} allows leases of at most 8 hours; you asked for 10 hours.`,
    );
    expect(err.details).toEqual({ quota: "maxLeaseHours", limit: 8, requested: 10 });
    expect((await createLease(t.db, annB, { poolId: b.pool.id }, { now: NOW })).endsAt).toBe(hoursAfter(NOW, 4).toISOString());
  });

  it("counts node-hours per calendar month, naming the quota and the numbers", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 5, quotas: { maxNodeHoursPerMonth: 100 } });
    const ann = as(w.members[0]![0]!);
    const name = w.projects[0]!.name;
    const big = await createLease(t.db, ann, { poolId: w.pool.id, count: 2, durationHours: 40 }, { now: NOW });

    const err = await expectAppError(
      createLease(t.db, ann, { poolId: w.pool.id, durationHours: 24 }, { now: NOW }),
      "quota_exceeded",
      `Project ${name} has 100 node-hours per month; 80 hours are used or booked this month and this request needs 24 hours more.`,
    );
    expect(err.details).toEqual({ quota: "maxNodeHoursPerMonth", limit: 100, used: 80, requested: 24 });
    // Exactly up to the quota is allowed.
    const fits = await createLease(t.db, ann, { poolId: w.pool.id, durationHours: 20 }, { now: NOW });
    await expectAppError(createLease(t.db, ann, { poolId: w.pool.id, durationHours: 0.5 }, { now: NOW }), "quota_exceeded", /100 hours are used or booked/);

    // Releasing early gives back the hours not used: 2 hosts × 10 h instead of 2 × 40 h.
    await releaseLease(t.db, ann, big.id, { now: hoursAfter(NOW, 10) });
    await releaseLease(t.db, ann, fits.id, { now: hoursAfter(NOW, 10) });
    expect((await getProject(t.db, w.adminActor, w.projects[0]!.id, { now: hoursAfter(NOW, 10) })).usage.nodeHoursThisMonth).toBeCloseTo(30, 5);
    await createLease(t.db, ann, { poolId: w.pool.id, count: 2, durationHours: 35 }, { now: hoursAfter(NOW, 10) });
  });

  it("charges each month only the hours that fall inside it", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 5, quotas: { maxNodeHoursPerMonth: 10 } });
    const ann = as(w.members[0]![0]!);
    // 2 hosts × 48 h from 30 November 20:00 UTC: 8 node-hours in November, 88 in December.
    const lateNovember = new Date("2026-11-30T20:00:00Z");
    await createLease(t.db, ann, { poolId: w.pool.id, count: 2, durationHours: 48 }, { now: lateNovember });
    await expectAppError(
      createLease(t.db, ann, { poolId: w.pool.id, durationHours: 1 }, { now: new Date("2026-12-01T00:00:00Z") }),
      "quota_exceeded",
      `Project ${w.projects[0]!.name} has 10 node-hours per month; 88 hours are used or booked this month and this request needs 1 hour more.`,
    );
  });
});

describe("extending a lease", () => {
  it("extends within the pool's maximum and refuses beyond it, leaving the end unchanged", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 2, pool: { defaultLeaseHours: 24, maxLeaseHours: 48 } });
    const ann = as(w.members[0]![0]!);
    const lease = await createLease(t.db, ann, { poolId: w.pool.id, durationHours: 24 }, { now: NOW });

    const extended = await extendLease(t.db, ann, lease.id, { hours: 24 }, { now: hoursAfter(NOW, 1) });
    expect(extended.endsAt).toBe(hoursAfter(NOW, 48).toISOString());
    await expectAppError(
      extendLease(t.db, ann, lease.id, { hours: 1 }, { now: hoursAfter(NOW, 2) }),
      "quota_exceeded",
      `Pool ${w.pool.name} allows leases of at most 48 hours; extending by 1 hour would make this one 49 hours long.`,
    );
    const row = await getLeaseRow(t.db, lease.id);
    expect(row!.endsAt.toISOString()).toBe(hoursAfter(NOW, 48).toISOString());
    await expectAppError(extendLease(t.db, ann, lease.id, { hours: 0 }), "validation", "Extend by a positive number of hours.");
  });

  it("applies the project's lease length and node-hour quota to extensions", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 4, quotas: { maxLeaseHours: 30, maxNodeHoursPerMonth: 50 } });
    const ann = as(w.members[0]![0]!);
    const name = w.projects[0]!.name;
    const lease = await createLease(t.db, ann, { poolId: w.pool.id, count: 2, durationHours: 20 }, { now: NOW });

    await expectAppError(
      extendLease(t.db, ann, lease.id, { hours: 6 }, { now: NOW }),
      "quota_exceeded",
      `Project ${name} has 50 node-hours per month; 40 hours are used or booked this month and this request needs 12 hours more.`,
    );
    expect((await extendLease(t.db, ann, lease.id, { hours: 5 }, { now: NOW })).endsAt).toBe(hoursAfter(NOW, 25).toISOString());
    await expectAppError(extendLease(t.db, ann, lease.id, { hours: 6 }, { now: NOW }), "quota_exceeded", `Project ${name} allows leases of at most 30 hours; extending by 6 hours would make this one 31 hours long.`);
  });

  it("lets only the holder or an admin extend, and only an active lease", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 2, membersPerProject: 2 });
    const [ann, ben] = w.members[0]!;
    const lease = await createLease(t.db, as(ann!), { poolId: w.pool.id, durationHours: 4 }, { now: NOW });
    await expectAppError(extendLease(t.db, as(ben!), lease.id, { hours: 1 }, { now: NOW }), "not_found", "That lease does not exist.");
    expect((await extendLease(t.db, w.adminActor, lease.id, { hours: 1 }, { now: NOW })).endsAt).toBe(hoursAfter(NOW, 5).toISOString());
    await releaseLease(t.db, as(ann!), lease.id, { now: NOW });
    await expectAppError(extendLease(t.db, as(ann!), lease.id, { hours: 1 }, { now: NOW }), "conflict", "This lease has already been released.");
  });
});
