// Admission of advance reservations through lib/, with the clock passed in: boundaries,
// overlaps with leases, reservations and maintenance, each quota, and what leases may no longer
// do to reserved time. The invariants after a race are checked in SQL (race.int.test.ts).
import { describe, expect, it } from "vitest";
import { listReservationBookings } from "@/db/queries/reservations";
import { updateProjectRow } from "@/db/queries/projects";
import { useTestDb } from "@/test/harness/database";
import { expectAppError } from "@/test/harness/fixtures";
import { as, hoursAfter, seedLeaseWorld } from "@/test/harness/inventory";
import { createLease, extendLease } from "@/lib/leases/leases";
import { getProjectUsage } from "@/lib/projects/projects";
import { createImage } from "@/lib/images/images";
import { recordReadyImageVersion } from "@/test/harness/images";
import { createMaintenanceWindow } from "./maintenance";
import { createReservation, getReservation, listReservations } from "./reservations";

const t = await useTestDb();
const T0 = new Date("2026-11-10T10:00:00Z");
const at = (h: number) => hoursAfter(T0, h);
const iso = (h: number) => at(h).toISOString();

describe("admission boundaries", () => {
  it("admits back-to-back reservations [a,b) [b,c) of one host and refuses one overlapping by a second, naming the project", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 1, projects: 2 });
    const ann = as(w.members[0]![0]!);
    const bob = as(w.members[1]![0]!);
    const first = await createReservation(t.db, ann, { poolId: w.pool.id, startsAt: iso(24), endsAt: iso(26), title: "course" }, { now: T0 });
    expect(first).toMatchObject({ state: "scheduled", count: 1, title: "course", projectName: w.projects[0]!.name, prepareFrom: iso(24) });
    expect(first.hosts.map((h) => h.name)).toEqual([w.hosts[0]!.name]);
    expect(await listReservationBookings(t.db, first.id)).toEqual([{ hostId: w.hosts[0]!.id, from: at(24), to: at(26) }]);

    const second = await createReservation(t.db, bob, { poolId: w.pool.id, startsAt: iso(26), endsAt: iso(28) }, { now: T0 });
    expect(second.state).toBe("scheduled");
    const before = await createReservation(t.db, bob, { poolId: w.pool.id, startsAt: iso(22), endsAt: iso(24) }, { now: T0 });
    expect(before.state).toBe("scheduled");

    const overlap = new Date(at(26).getTime() - 1000).toISOString();
    const e = await expectAppError(
      createReservation(t.db, bob, { poolId: w.pool.id, startsAt: overlap, endsAt: iso(27) }, { now: T0 }),
      "insufficient_capacity",
      `Only 0 of the 1 usable host of pool ${w.pool.name} are free for the whole of 2026-11-11 11:59–13:00 UTC; you asked for 1. In the way: ${w.hosts[0]!.name} reserved by project ${w.projects[0]!.name} 2026-11-11 10:00–12:00 UTC; ${w.hosts[0]!.name} reserved by project ${w.projects[1]!.name} 2026-11-11 12:00–14:00 UTC. Nothing was reserved.`,
    );
    expect(e.message).not.toContain(w.members[0]![0]!.email);
  });

  it("refuses a start in the past (beyond a minute), an end before the start, and more hosts than the pool has", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 2 });
    const ann = as(w.members[0]![0]!);
    await expectAppError(
      createReservation(t.db, ann, { poolId: w.pool.id, startsAt: new Date(T0.getTime() - 5 * 60_000).toISOString(), endsAt: iso(2) }, { now: T0 }),
      "validation",
      "The start (2026-11-10 09:55 UTC) is in the past. To use hosts now, lease them instead.",
    );
    const slack = await createReservation(t.db, ann, { poolId: w.pool.id, startsAt: new Date(T0.getTime() - 30_000).toISOString(), endsAt: iso(1) }, { now: T0 });
    expect(slack.state).toBe("scheduled");
    await expectAppError(createReservation(t.db, ann, { poolId: w.pool.id, startsAt: iso(3), endsAt: iso(2) }, { now: T0 }), "validation", "The end must be after the start.");
    await expectAppError(createReservation(t.db, ann, { poolId: w.pool.id, count: 3, startsAt: iso(3), endsAt: iso(4) }, { now: T0 }), "validation", `Pool ${w.pool.name} has 2 usable hosts in all; you asked for 3.`);
  });
});

describe("overlaps with leases and maintenance", () => {
  it("counts an active lease until its end, takes the other host, and a lease can no longer take reserved time", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 2, projects: 2 });
    const ann = as(w.members[0]![0]!);
    const bob = as(w.members[1]![0]!);
    const lease = await createLease(t.db, bob, { poolId: w.pool.id, durationHours: 4 }, { now: T0 });
    const leased = lease.hosts[0]!;
    await expectAppError(
      createReservation(t.db, ann, { poolId: w.pool.id, count: 2, startsAt: iso(2), endsAt: iso(6) }, { now: T0 }),
      "insufficient_capacity",
      `Only 1 of the 2 usable hosts of pool ${w.pool.name} is free for the whole of 2026-11-10 12:00–16:00 UTC; you asked for 2. In the way: ${leased.name} leased by project ${w.projects[1]!.name} 2026-11-10 10:00–14:00 UTC. Nothing was reserved.`,
    );
    const r = await createReservation(t.db, ann, { poolId: w.pool.id, count: 1, startsAt: iso(2), endsAt: iso(6) }, { now: T0 });
    expect(r.hosts.map((h) => h.id)).not.toContain(leased.id);
    // After the lease's end its host is free again.
    const later = await createReservation(t.db, ann, { poolId: w.pool.id, count: 1, startsAt: iso(4), endsAt: iso(5) }, { now: T0 });
    expect(later.hosts.map((h) => h.id)).toEqual([leased.id]);

    // The free host is reserved from T0+2h: a lease of 4 hours now would take that time.
    await expectAppError(
      createLease(t.db, bob, { poolId: w.pool.id, durationHours: 4 }, { now: T0 }),
      "insufficient_capacity",
      `No host available in pool ${w.pool.name} right now. Nothing was leased.`,
    );
    const short = await createLease(t.db, bob, { poolId: w.pool.id, durationHours: 2 }, { now: T0 });
    expect(short.hosts.map((h) => h.id)).toEqual(r.hosts.map((h) => h.id));
  });

  it("refuses extending a lease into someone's reservation, naming the project and the latest end possible", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 1, projects: 2 });
    const ann = as(w.members[0]![0]!);
    const bob = as(w.members[1]![0]!);
    const lease = await createLease(t.db, bob, { poolId: w.pool.id, durationHours: 2 }, { now: T0 });
    await createReservation(t.db, ann, { poolId: w.pool.id, startsAt: iso(3), endsAt: iso(5) }, { now: T0 });
    const e = await expectAppError(
      extendLease(t.db, bob, lease.id, { hours: 2 }, { now: T0 }),
      "conflict",
      `Host ${w.hosts[0]!.name} is reserved by project ${w.projects[0]!.name} from 2026-11-10 13:00 UTC; extending to 2026-11-10 14:00 UTC would take that time, so it can be extended until 2026-11-10 13:00 UTC (by 1 hour) at most.`,
    );
    expect(e.message).not.toContain(w.members[0]![0]!.email);
    const ok = await extendLease(t.db, bob, lease.id, { hours: 1 }, { now: T0 });
    expect(ok.endsAt).toBe(iso(3));
  });

  it("refuses time under a pool's or a host's maintenance window, and leases skip hosts under one", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 2 });
    const ann = as(w.members[0]![0]!);
    await createMaintenanceWindow(t.db, w.adminActor, { poolId: w.pool.id, startsAt: iso(10), endsAt: iso(12), reason: "PDU swap" }, { now: T0 });
    await expectAppError(
      createReservation(t.db, ann, { poolId: w.pool.id, startsAt: iso(11), endsAt: iso(13) }, { now: T0 }),
      "insufficient_capacity",
      `Only 0 of the 2 usable hosts of pool ${w.pool.name} are free for the whole of 2026-11-10 21:00–23:00 UTC; you asked for 1. In the way: pool ${w.pool.name} in maintenance 2026-11-10 20:00–22:00 UTC (PDU swap). Nothing was reserved.`,
    );
    const after = await createReservation(t.db, ann, { poolId: w.pool.id, startsAt: iso(12), endsAt: iso(13) }, { now: T0 });
    expect(after.state).toBe("scheduled");

    await createMaintenanceWindow(t.db, w.adminActor, { hostId: w.hosts[0]!.id, startsAt: iso(1), endsAt: iso(2) }, { now: T0 });
    const r = await createReservation(t.db, ann, { poolId: w.pool.id, startsAt: iso(0.5), endsAt: iso(3) }, { now: T0 });
    expect(r.hosts.map((h) => h.name)).toEqual([w.hosts[1]!.name]);
    await expectAppError(createLease(t.db, ann, { poolId: w.pool.id, durationHours: 2 }, { now: T0 }), "insufficient_capacity");
    // An admin's direct lease of a reserved host is refused with whose time it is.
    await expectAppError(
      createLease(t.db, w.adminActor, { hostIds: [w.hosts[1]!.id], userId: w.members[0]![0]!.id, durationHours: 1 }, { now: T0 }),
      "conflict",
      `Host ${w.hosts[1]!.name} is reserved by project ${w.projects[0]!.name} from 2026-11-10 10:30 UTC; a lease of it must end before then. Nothing was leased.`,
    );
    await expectAppError(
      createLease(t.db, w.adminActor, { hostIds: [w.hosts[0]!.id], userId: w.members[0]![0]!.id, durationHours: 2 }, { now: T0 }),
      "conflict",
      `Host ${w.hosts[0]!.name} is under maintenance from 2026-11-10 11:00 UTC; a lease of it must end before then. Nothing was leased.`,
    );
  });
});

describe("quotas", () => {
  it("refuses a reservation longer than the stricter of the pool's and the project's maximum", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 1, pool: { maxLeaseHours: 48 }, quotas: { maxLeaseHours: 8 } });
    await expectAppError(
      createReservation(t.db, as(w.members[0]![0]!), { poolId: w.pool.id, startsAt: iso(1), endsAt: iso(10) }, { now: T0 }),
      "quota_exceeded",
      `Project ${w.projects[0]!.name} allows leases and reservations of at most 8 hours; you asked for 9 hours.`,
    );
  });

  it("refuses a start further ahead than the project's maxAdvanceDays", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 1 });
    await updateProjectRow(t.db, w.projects[0]!.id, { maxAdvanceDays: 7 });
    await expectAppError(
      createReservation(t.db, as(w.members[0]![0]!), { poolId: w.pool.id, startsAt: iso(8 * 24), endsAt: iso(8 * 24 + 1) }, { now: T0 }),
      "quota_exceeded",
      `Project ${w.projects[0]!.name} may reserve at most 7 days ahead (a start by 2026-11-17 10:00 UTC); this one starts in 8 days.`,
    );
    const ok = await createReservation(t.db, as(w.members[0]![0]!), { poolId: w.pool.id, startsAt: iso(6 * 24), endsAt: iso(6 * 24 + 1) }, { now: T0 });
    expect(ok.state).toBe("scheduled");
  });

  it("counts node-hours of leases and reservations in each month the interval touches", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 4, quotas: { maxNodeHoursPerMonth: 100 } });
    const ann = as(w.members[0]![0]!);
    // 2 hosts × 10 h now (20 h in November).
    await createLease(t.db, ann, { poolId: w.pool.id, count: 2, durationHours: 10 }, { now: T0 });
    // 2 hosts × 30 h on the 20th: 60 h in November, now 80 h booked.
    await createReservation(t.db, ann, { poolId: w.pool.id, count: 2, startsAt: "2026-11-20T00:00:00Z", endsAt: "2026-11-21T06:00:00Z" }, { now: T0 });
    expect((await getProjectUsage(t.db, w.projects[0]!.id, { now: T0 })).nodeHoursThisMonth).toBe(80);
    // 2 hosts from 30 Nov 20:00 to 1 Dec 20:00: 8 h in November (would be 88, fine), 40 h in December.
    await createReservation(t.db, ann, { poolId: w.pool.id, count: 2, startsAt: "2026-11-30T20:00:00Z", endsAt: "2026-12-01T20:00:00Z" }, { now: T0 });
    // 2 hosts over the month end again: 16 h more in November would make 104.
    await expectAppError(
      createReservation(t.db, ann, { poolId: w.pool.id, count: 2, startsAt: "2026-11-30T16:00:00Z", endsAt: "2026-12-01T02:00:00Z" }, { now: T0 }),
      "quota_exceeded",
      `Project ${w.projects[0]!.name} has 100 node-hours per month; in November 2026 88 hours are used or booked and this reservation needs 16 hours more.`,
    );
    // December: 40 h booked; 2 × 31 h = 62 h more would make 102.
    await expectAppError(
      createReservation(t.db, ann, { poolId: w.pool.id, count: 2, startsAt: "2026-12-05T00:00:00Z", endsAt: "2026-12-06T07:00:00Z" }, { now: T0 }),
      "quota_exceeded",
      `Project ${w.projects[0]!.name} has 100 node-hours per month; in December 2026 40 hours are used or booked and this reservation needs 62 hours more.`,
    );
  });

  it("counts maxHosts as the peak of leased and reserved hosts at once over the interval", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 6, quotas: { maxHosts: 3 } });
    const ann = as(w.members[0]![0]!);
    await createLease(t.db, ann, { poolId: w.pool.id, count: 1, durationHours: 4 }, { now: T0 }); // [0,4)
    await createReservation(t.db, ann, { poolId: w.pool.id, count: 1, startsAt: iso(3), endsAt: iso(6) }, { now: T0 }); // [3,6)
    // [5,8) overlaps only the reservation: peak 1, +2 = 3.
    await createReservation(t.db, ann, { poolId: w.pool.id, count: 2, startsAt: iso(5), endsAt: iso(8) }, { now: T0 });
    // [2,4) overlaps the lease and the first reservation at 3: peak 2, +2 = 4 > 3.
    await expectAppError(
      createReservation(t.db, ann, { poolId: w.pool.id, count: 2, startsAt: iso(2), endsAt: iso(4) }, { now: T0 }),
      "quota_exceeded",
      `Project ${w.projects[0]!.name} may hold at most 3 hosts at once; during this time it already holds or has booked up to 2, and this reservation needs 2 more.`,
    );
    await createReservation(t.db, ann, { poolId: w.pool.id, count: 1, startsAt: iso(2), endsAt: iso(4) }, { now: T0 });
    // A lease counts the project's reservations too: at T0+3h it holds or has booked 3.
    await expectAppError(
      createLease(t.db, ann, { poolId: w.pool.id, count: 1, durationHours: 4 }, { now: T0 }),
      "quota_exceeded",
      `Project ${w.projects[0]!.name} may hold at most 3 hosts at once; with its reservations it holds or has booked up to 3 before this lease would end, and this request needs 1 more.`,
    );
    await createLease(t.db, ann, { poolId: w.pool.id, count: 1, durationHours: 1 }, { now: T0 });
  });
});

describe("ready at the start", () => {
  it("pins the image version, takes the hosts earlier by the planned lead, and refuses what is not a deploy", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 1 });
    const ann = w.members[0]![0]!;
    const image = await createImage(t.db, as(ann), { name: `img-${w.pool.name}` });
    await recordReadyImageVersion(t.db, { imageId: image.id, sizeBytes: 512, sha256: "0".repeat(64), uploadedByUserId: ann.id });
    const r = await createReservation(t.db, as(ann), { poolId: w.pool.id, startsAt: iso(24), endsAt: iso(26), deploy: { action: "deploy_image", imageId: image.id } }, { now: T0 });
    expect(r.deploy).toEqual({ action: "deploy_image", imageId: image.id, imageVersion: 1 });
    expect(r.deploySummary).toBe(`deploy image “${image.name}” v1`);
    expect(r.plan!.leadSeconds).toBeGreaterThan(0);
    expect(r.prepareFrom).toBe(new Date(at(24).getTime() - r.plan!.leadSeconds * 1000).toISOString());
    expect(await listReservationBookings(t.db, r.id)).toEqual([{ hostId: w.hosts[0]!.id, from: new Date(r.prepareFrom), to: at(26) }]);
    // The lead is taken from the time before: a reservation ending at the start of its preparation still fits; one a second later does not.
    await createReservation(t.db, as(ann), { poolId: w.pool.id, startsAt: iso(20), endsAt: r.prepareFrom }, { now: T0 });
    await expectAppError(
      createReservation(t.db, as(ann), { poolId: w.pool.id, startsAt: iso(20), endsAt: new Date(new Date(r.prepareFrom).getTime() + 1000).toISOString() }, { now: T0 }),
      "insufficient_capacity",
    );

    await expectAppError(
      createReservation(t.db, as(ann), { poolId: w.pool.id, startsAt: iso(30), endsAt: iso(31), deploy: { action: "wipe_disk" } }, { now: T0 }),
      "validation",
      "A reservation can have an install or an image deploy ready at its start.",
    );
    await expectAppError(
      createReservation(t.db, as(ann), { poolId: w.pool.id, startsAt: iso(30), endsAt: iso(31), deploy: { action: "install" } }, { now: T0 }),
      "validation",
      "Choose the system (boot) template to install with.",
    );
  });
});

describe("who sees what", () => {
  it("lists the caller's own reservations; everyone's only for admins; another's is not found", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 2, projects: 2 });
    const ann = as(w.members[0]![0]!);
    const bob = as(w.members[1]![0]!);
    const r = await createReservation(t.db, ann, { poolId: w.pool.id, startsAt: iso(1), endsAt: iso(2) }, { now: T0 });
    expect((await listReservations(t.db, ann, {})).data.map((x) => x.id)).toContain(r.id);
    expect((await listReservations(t.db, bob, {})).data.map((x) => x.id)).not.toContain(r.id);
    await expectAppError(listReservations(t.db, bob, { scope: "all" }), "forbidden");
    expect((await listReservations(t.db, w.adminActor, { scope: "all", poolId: w.pool.id })).data.map((x) => x.id)).toEqual([r.id]);
    await expectAppError(getReservation(t.db, bob, r.id), "not_found");
    const detail = await getReservation(t.db, ann, r.id);
    expect(detail.history.map((h) => h.action)).toEqual(["reservation.create"]);
  });
});
