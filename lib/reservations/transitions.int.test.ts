// A reservation's life with the clock moved by the test: start at prepareFrom as a lease, hosts
// still releasing join later, preparing → active at the start, ended with its lease; a host that
// fails before the start is replaced (or the reservation is short and its holder told);
// maintenance windows re-plan reservations; cancel before and during.
import { describe, expect, it } from "vitest";
import { listAudit } from "@/db/queries/audit";
import { getLeaseRow, listLeaseHostRows } from "@/db/queries/leases";
import { listOutboxMailTo } from "@/db/queries/outbox";
import { getReservationRow, listReservationBookings, updateReservationRow } from "@/db/queries/reservations";
import { SYSTEM } from "@/lib/access/actor";
import { transitionHostStates } from "@/lib/hosts/transition";
import { createLease, releaseLease } from "@/lib/leases/leases";
import { useTestDb } from "@/test/harness/database";
import { expectAppError } from "@/test/harness/fixtures";
import { as, hostStates, hoursAfter, seedLeaseWorld } from "@/test/harness/inventory";
import { createMaintenanceWindow } from "./maintenance";
import { cancelReservation, createReservation, getReservation } from "./reservations";
import { advanceReservations } from "./transitions";

const t = await useTestDb();
const T0 = new Date("2026-11-10T10:00:00Z");
const at = (h: number) => hoursAfter(T0, h);
const iso = (h: number) => at(h).toISOString();
const MINUTE = 60_000;

describe("start and end", () => {
  it("becomes a lease at its start, holds its hosts, and ends with its lease", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 3 });
    const ann = as(w.members[0]![0]!);
    const r = await createReservation(t.db, ann, { poolId: w.pool.id, count: 2, startsAt: iso(2), endsAt: iso(4) }, { now: T0 });

    await advanceReservations(t.db, { now: new Date(at(2).getTime() - MINUTE) });
    expect((await getReservationRow(t.db, r.id))!.state).toBe("scheduled");

    const tick = await advanceReservations(t.db, { now: at(2) });
    expect(tick.started).toBeGreaterThanOrEqual(1);
    const row = (await getReservationRow(t.db, r.id))!;
    expect(row.state).toBe("active");
    const lease = (await getLeaseRow(t.db, row.leaseId!))!;
    expect(lease).toMatchObject({ state: "active", reservationId: r.id, startsAt: at(2), endsAt: at(4), userId: w.members[0]![0]!.id, projectId: w.projects[0]!.id });
    expect((await listLeaseHostRows(t.db, [lease.id])).map((h) => h.hostId).sort()).toEqual(r.hosts.map((h) => h.id).sort());
    expect(await hostStates(t.db, r.hosts.map((h) => h.id))).toEqual(Object.fromEntries(r.hosts.map((h) => [h.id, "leased"])));
    // Its bookings are the lease's now (the trigger's), not the reservation's.
    expect(await listReservationBookings(t.db, r.id)).toEqual([]);

    await releaseLease(t.db, SYSTEM, lease.id, { now: at(4), reason: "expired" });
    await advanceReservations(t.db, { now: at(4) });
    expect((await getReservationRow(t.db, r.id))!.state).toBe("ended");
    const history = (await getReservation(t.db, ann, r.id)).history.map((h) => h.action);
    expect(history).toEqual(["reservation.create", "reservation.start", "reservation.end"]);
  });

  it("waits for a host its previous holder still has at the start, which joins the lease once released", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 1, projects: 2 });
    const bob = as(w.members[1]![0]!);
    const lease = await createLease(t.db, bob, { poolId: w.pool.id, durationHours: 2 }, { now: T0 });
    const r = await createReservation(t.db, as(w.members[0]![0]!), { poolId: w.pool.id, startsAt: iso(2), endsAt: iso(5) }, { now: T0 });
    // Bob's lease ends at the reservation's start, and the expiry job has not ended it yet: its
    // host is still Bob's when the reservation starts.
    const host = w.hosts[0]!.id;
    await advanceReservations(t.db, { now: at(2) });
    const row = (await getReservationRow(t.db, r.id))!;
    expect(row.state).toBe("active");
    expect(await listLeaseHostRows(t.db, [row.leaseId!])).toEqual([]);
    // Its reservation booking still holds the time meanwhile.
    expect((await listReservationBookings(t.db, r.id)).map((b) => b.hostId)).toEqual([host]);
    expect((await advanceReservations(t.db, { now: at(2.1) })).joined).toBe(0);
    // Released (a host without remote power goes straight back to available): it joins.
    await releaseLease(t.db, SYSTEM, lease.id, { now: at(2.2), reason: "expired" });
    expect((await hostStates(t.db, [host]))[host]).toBe("available");
    expect((await advanceReservations(t.db, { now: at(2.2) })).joined).toBe(1);
    expect((await listLeaseHostRows(t.db, [row.leaseId!])).map((h) => h.hostId)).toEqual([host]);
    expect((await hostStates(t.db, [host]))[host]).toBe("leased");
  });

  it("with a deploy, prepares from prepareFrom and is active at the start with the outcome stored", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 1 });
    const r = await createReservation(t.db, as(w.members[0]![0]!), { poolId: w.pool.id, startsAt: iso(2), endsAt: iso(4) }, { now: T0 });
    // A deploy set on the row (what to deploy is pinned by the admission; here only the transitions matter).
    await updateReservationRow(t.db, r.id, { deploy: { action: "install" }, plan: { leadSeconds: 0, basis: "test", samples: 0 } });
    await advanceReservations(t.db, { now: at(2) });
    const row = (await getReservationRow(t.db, r.id))!;
    expect(row.state).toBe("active");
    expect(row.plan?.outcome).toMatchObject({ checkedAt: iso(2) });
    const history = (await listAudit(t.db, { targetType: "reservation", targetId: r.id, limit: 10, offset: 0 })).rows.map((a) => a.action).reverse();
    expect(history).toEqual(["reservation.create", "reservation.start", "reservation.activate"]);
  });
});

describe("host failure before the start", () => {
  it("replaces a broken host, and tells the holder when no replacement is free", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 3 });
    const ann = w.members[0]![0]!;
    const r = await createReservation(t.db, as(ann), { poolId: w.pool.id, count: 2, startsAt: iso(5), endsAt: iso(7) }, { now: T0 });
    const [first, second] = r.hosts;
    const spare = w.hosts.find((h) => !r.hosts.some((x) => x.id === h.id))!;

    await transitionHostStates(t.db, { hostIds: [first!.id], to: "broken", actorUserId: null, at: at(1) });
    await advanceReservations(t.db, { now: at(1) });
    let view = await getReservation(t.db, as(ann), r.id);
    expect(view.hosts.map((h) => ({ name: h.name, replaced: Boolean(h.replacedAt), reason: h.replacedReason }))).toEqual([
      { name: first!.name, replaced: true, reason: "host is broken" },
      { name: second!.name, replaced: false, reason: null },
      { name: spare.name, replaced: false, reason: null },
    ].sort((a, b) => (a.replaced === b.replaced ? a.name.localeCompare(b.name) : a.replaced ? -1 : 1)));
    expect((await listReservationBookings(t.db, r.id)).map((b) => b.hostId).sort()).toEqual([second!.id, spare.id].sort());

    // Now another fails and nothing is left: short, and the holder is mailed once.
    await transitionHostStates(t.db, { hostIds: [second!.id], to: "maintenance", actorUserId: null, at: at(2) });
    await advanceReservations(t.db, { now: at(2) });
    await advanceReservations(t.db, { now: at(2.5) });
    view = await getReservation(t.db, as(ann), r.id);
    expect(view.hosts.filter((h) => !h.replacedAt).map((h) => h.name)).toEqual([spare.name]);
    expect(view.history.map((h) => h.action)).toEqual(["reservation.create", "reservation.hosts_replaced", "reservation.hosts_replaced", "reservation.short"]);
    const mails = (await listOutboxMailTo(t.db, ann.email)).filter((m) => m.subject.includes("short of hosts"));
    expect(mails).toHaveLength(1);
    expect(mails[0]!.subject).toBe(`Your Kiln reservation of 2026-11-10 15:00 UTC is short of hosts: 1 of 2`);

    // A host once replaced is not taken back when repaired (reservation_hosts keeps one row per
    // host, its history), so only a host new to the reservation could top it up: none here.
    await transitionHostStates(t.db, { hostIds: [second!.id, first!.id], to: "available", actorUserId: null, at: at(3) });
    await advanceReservations(t.db, { now: at(3) });
    expect(await listReservationBookings(t.db, r.id)).toHaveLength(1);
    expect((await listOutboxMailTo(t.db, ann.email)).filter((m) => m.subject.includes("short of hosts"))).toHaveLength(1);
  });
});

describe("maintenance windows", () => {
  it("re-chooses the hosts of scheduled reservations under a new window and reports them; refuses over an active lease unless forced", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 3, projects: 2 });
    const r = await createReservation(t.db, as(w.members[0]![0]!), { poolId: w.pool.id, startsAt: iso(10), endsAt: iso(12), title: "course" }, { now: T0 });
    const taken = r.hosts[0]!;
    const out = await createMaintenanceWindow(t.db, w.adminActor, { hostId: taken.id, startsAt: iso(11), endsAt: iso(13), reason: "firmware" }, { now: T0 });
    expect(out.affectedReservations).toEqual([{ id: r.id, title: "course", projectName: w.projects[0]!.name, replaced: [{ from: taken.name, to: expect.any(String) }], short: false }]);
    const after = await getReservation(t.db, as(w.members[0]![0]!), r.id);
    expect(after.hosts.find((h) => h.id === taken.id)!.replacedReason).toBe("maintenance window (firmware from 2026-11-10 21:00 UTC)");

    const lease = await createLease(t.db, as(w.members[1]![0]!), { poolId: w.pool.id, durationHours: 4 }, { now: T0 });
    await expectAppError(
      createMaintenanceWindow(t.db, w.adminActor, { poolId: w.pool.id, startsAt: iso(1), endsAt: iso(2) }, { now: T0 }),
      "conflict",
      `Active leases hold hosts in that time: project ${w.projects[1]!.name}'s lease of ${lease.hosts[0]!.name} (until 2026-11-10 14:00 UTC). Choose another time, or create the window with force (those leases are not touched; their hosts stay with their holders until the leases end).`,
    );
    const forced = await createMaintenanceWindow(t.db, w.adminActor, { poolId: w.pool.id, startsAt: iso(1), endsAt: iso(2), force: true }, { now: T0 });
    expect(forced.overlappingLeases).toEqual([{ leaseId: lease.id, projectName: w.projects[1]!.name, hosts: [lease.hosts[0]!.name], endsAt: iso(4) }]);
    expect((await getLeaseRow(t.db, lease.id))!.state).toBe("active");
    await expectAppError(createMaintenanceWindow(t.db, as(w.members[0]![0]!), { poolId: w.pool.id, startsAt: iso(20), endsAt: iso(21) }, { now: T0 }), "forbidden");
  });
});

describe("cancel", () => {
  it("frees a scheduled reservation's time, and releases the lease of one under way", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 1, projects: 2 });
    const ann = as(w.members[0]![0]!);
    const r = await createReservation(t.db, ann, { poolId: w.pool.id, startsAt: iso(2), endsAt: iso(4) }, { now: T0 });
    await expectAppError(cancelReservation(t.db, as(w.members[1]![0]!), r.id, { now: T0 }), "not_found");
    const cancelled = await cancelReservation(t.db, ann, r.id, { now: T0 });
    expect(cancelled).toMatchObject({ state: "cancelled", cancelledAt: T0.toISOString() });
    expect(await listReservationBookings(t.db, r.id)).toEqual([]);
    await expectAppError(cancelReservation(t.db, ann, r.id, { now: T0 }), "conflict", "This reservation has already been cancelled.");
    // The time is free for someone else.
    await createReservation(t.db, as(w.members[1]![0]!), { poolId: w.pool.id, startsAt: iso(2), endsAt: iso(3) }, { now: T0 });

    const during = await createReservation(t.db, ann, { poolId: w.pool.id, startsAt: iso(5), endsAt: iso(7) }, { now: T0 });
    await advanceReservations(t.db, { now: at(5) });
    const leaseId = (await getReservationRow(t.db, during.id))!.leaseId!;
    await cancelReservation(t.db, w.adminActor, during.id, { now: at(6) });
    expect((await getLeaseRow(t.db, leaseId))!.state).toBe("released");
    expect((await getReservationRow(t.db, during.id))!.state).toBe("cancelled");
    // The ended lease does not turn a cancelled reservation into an ended one.
    await advanceReservations(t.db, { now: at(6) });
    expect((await getReservationRow(t.db, during.id))!.state).toBe("cancelled");
  });
});
