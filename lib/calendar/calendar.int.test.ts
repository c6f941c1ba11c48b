// The calendar against a real database: a pool's timeline (who sees what), ICS feeds (parsed
// back with ical.js, as a calendar client would read them), and reminders before a
// reservation starts (time moved by the clock, each offset mailed once).
import ICAL from "ical.js";
import { afterAll, describe, expect, it } from "vitest";
import { insertBookedReservation, insertMaintenance } from "@/db/queries/calendar-testing";
import { listAudit } from "@/db/queries/audit";
import { listRowsAsJson } from "@/db/queries/testing";
import { updateUser } from "@/db/queries/users";
import { sendLeaseReminders } from "@/lib/leases/expiry";
import { createLease, releaseLease } from "@/lib/leases/leases";
import { createReservation } from "@/lib/reservations/reservations";
import { activateReservation, startDueReservation } from "@/lib/reservations/transitions";
import { useTestDb } from "@/test/harness/database";
import { setTestEnvDefaults, TEST_BASE_URL } from "@/test/harness/env";
import { expectAppError } from "@/test/harness/fixtures";
import { as, hoursAfter, seedLeaseWorld } from "@/test/harness/inventory";
import { startSmtp } from "@/test/harness/smtp";
import { createCalendarFeed, listCalendarFeeds, renderCalendarFeed, revokeCalendarFeed } from "./feeds";
import { sendReservationReminders } from "./reminders";
import { getPoolTimeline } from "./timeline";

const t = await useTestDb();
const smtp = await startSmtp();
setTestEnvDefaults({ SMTP_URL: smtp.url, KILN_RESERVATION_REMINDER_HOURS: "24,1" });
afterAll(() => smtp.stop());

const T0 = new Date("2026-11-10T10:00:00Z");
/** Now, to the second: ICS times have no milliseconds. */
const nowToSecond = () => new Date(Math.floor(Date.now() / 1000) * 1000);

type ParsedEvent = { uid: string; summary: string; description: string; start: string; end: string };

/** The feed as a calendar client reads it: every VEVENT's UID, summary, description, start and end (UTC ISO). */
function parseFeed(text: string): ParsedEvent[] {
  const cal = new ICAL.Component(ICAL.parse(text));
  expect(cal.name).toBe("vcalendar");
  return cal.getAllSubcomponents("vevent").map((v) => {
    const e = new ICAL.Event(v);
    return { uid: e.uid, summary: e.summary, description: e.description, start: e.startDate.toJSDate().toISOString(), end: e.endDate.toJSDate().toISOString() };
  });
}

function tokenOf(url: string): string {
  const m = /\/calendar\/([^/]+)\.ics$/.exec(url);
  expect(m, url).not.toBeNull();
  return m![1]!;
}

describe("pool timeline", () => {
  it("shows every booking of the pool by project, marks the caller's own, and never names the person", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 3, projects: 2 });
    const [ann] = w.members[0]!;
    const [bob] = w.members[1]!;
    const lease = await createLease(t.db, as(ann!), { poolId: w.pool.id, count: 1, durationHours: 4 }, { now: T0 });
    const leasedHost = lease.hosts[0]!.id;
    const free = w.hosts.filter((h) => h.id !== leasedHost);
    const res = await insertBookedReservation(t.db, {
      projectId: w.projects[1]!.id, userId: bob!.id, poolId: w.pool.id, hostIds: free.map((h) => h.id),
      startsAt: hoursAfter(T0, 24), endsAt: hoursAfter(T0, 32), title: "Bob's course",
    });
    const span = { from: T0.toISOString(), to: hoursAfter(T0, 48).toISOString() };

    const seenByAnn = await getPoolTimeline(t.db, as(ann!), w.pool.id, span);
    expect(seenByAnn.pool).toEqual({ id: w.pool.id, name: w.pool.name });
    expect(seenByAnn.hosts.map((h) => h.name)).toEqual(w.hosts.map((h) => h.name));
    expect(seenByAnn.items.filter((i) => i.kind === "lease")).toEqual([
      expect.objectContaining({ id: lease.id, hostId: leasedHost, projectName: w.projects[0]!.name, mine: true, state: "active", startsAt: T0, endsAt: hoursAfter(T0, 4) }),
    ]);
    const theirs = seenByAnn.items.filter((i) => i.kind === "reservation");
    expect(theirs.map((i) => i.hostId).sort()).toEqual(free.map((h) => h.id).sort());
    for (const i of theirs) expect(i).toMatchObject({ id: res.id, projectName: w.projects[1]!.name, mine: false, title: null, startsAt: hoursAfter(T0, 24), endsAt: hoursAfter(T0, 32) });
    // Nothing in the answer names Bob: not his id, not his email.
    const text = JSON.stringify(seenByAnn);
    expect(text).not.toContain(bob!.id);
    expect(text).not.toContain(bob!.email);
    expect(text).not.toContain("Bob's course");

    // Bob sees his own reservation as his, with its title; an admin sees the title too.
    const seenByBob = await getPoolTimeline(t.db, as(bob!), w.pool.id, span);
    expect(seenByBob.items.filter((i) => i.kind === "reservation").every((i) => i.mine && i.title === "Bob's course")).toBe(true);
    expect(seenByBob.items.find((i) => i.kind === "lease")).toMatchObject({ mine: false, projectName: w.projects[0]!.name });
    const seenByAdmin = await getPoolTimeline(t.db, w.adminActor, w.pool.id, span);
    expect(seenByAdmin.items.filter((i) => i.kind === "reservation").every((i) => !i.mine && i.title === "Bob's course")).toBe(true);

    // Only what overlaps the span: a window ending before the reservation leaves it out.
    const early = await getPoolTimeline(t.db, as(ann!), w.pool.id, { from: T0.toISOString(), to: hoursAfter(T0, 24).toISOString() });
    expect(early.items.map((i) => i.kind)).toEqual(["lease"]);
    // A released lease no longer holds its host.
    await releaseLease(t.db, as(ann!), lease.id, { now: hoursAfter(T0, 1) });
    const after = await getPoolTimeline(t.db, as(bob!), w.pool.id, span);
    expect(after.items.filter((i) => i.kind === "lease")).toEqual([]);
  });

  it("shows a pool-wide maintenance window once with no host, a host's window on its row, and not another pool's", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 2 });
    const other = await seedLeaseWorld(t.db, { hosts: 1 });
    const [ann] = w.members[0]!;
    const pw = await insertMaintenance(t.db, { poolId: w.pool.id, startsAt: hoursAfter(T0, 2), endsAt: hoursAfter(T0, 4), reason: "firmware upgrade" });
    const hw = await insertMaintenance(t.db, { hostId: w.hosts[1]!.id, startsAt: hoursAfter(T0, 6), endsAt: hoursAfter(T0, 7), reason: "" });
    await insertMaintenance(t.db, { poolId: other.pool.id, startsAt: hoursAfter(T0, 2), endsAt: hoursAfter(T0, 4), reason: "not this pool" });
    await insertMaintenance(t.db, { hostId: other.hosts[0]!.id, startsAt: hoursAfter(T0, 2), endsAt: hoursAfter(T0, 4), reason: "nor this host" });

    const tl = await getPoolTimeline(t.db, as(ann!), w.pool.id, { from: T0.toISOString(), to: hoursAfter(T0, 24).toISOString() });
    expect(tl.items).toEqual([
      { kind: "maintenance", id: pw.id, hostId: null, startsAt: pw.startsAt, endsAt: pw.endsAt, projectName: null, mine: false, title: "firmware upgrade", state: null },
      { kind: "maintenance", id: hw.id, hostId: w.hosts[1]!.id, startsAt: hw.startsAt, endsAt: hw.endsAt, projectName: null, mine: false, title: null, state: null },
    ]);
  });

  it("refuses an unknown pool, a backwards span and one too long", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 1 });
    const ann = as(w.members[0]![0]!);
    await expectAppError(getPoolTimeline(t.db, ann, "00000000-0000-4000-8000-000000000000", {}), "not_found", "That pool does not exist.");
    await expectAppError(getPoolTimeline(t.db, ann, w.pool.id, { from: hoursAfter(T0, 2).toISOString(), to: T0.toISOString() }), "validation", "to must be after from.");
    await expectAppError(getPoolTimeline(t.db, ann, w.pool.id, { from: T0.toISOString(), to: hoursAfter(T0, 24 * 90).toISOString() }), "validation", "Ask for at most 62 days at once.");
    // The default span: 7 days from the current hour.
    const tl = await getPoolTimeline(t.db, ann, w.pool.id, {}, { now: new Date("2026-11-10T10:42:00Z") });
    expect({ from: tl.from, to: tl.to }).toEqual({ from: T0, to: hoursAfter(T0, 7 * 24) });
  });
});

describe("ICS feeds", () => {
  it("gives its owner their own leases and reservations, and someone else's token only that person's", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 4, projects: 2 });
    const [ann] = w.members[0]!;
    const [bob] = w.members[1]!;
    const now = nowToSecond();
    const lease = await createLease(t.db, as(ann!), { poolId: w.pool.id, count: 2, durationHours: 4 }, { now });
    const taken = new Set(lease.hosts.map((h) => h.id));
    const free = w.hosts.filter((h) => !taken.has(h.id));
    const start = hoursAfter(now, 48);
    const mine = await insertBookedReservation(t.db, { projectId: w.projects[0]!.id, userId: ann!.id, poolId: w.pool.id, hostIds: [free[0]!.id], startsAt: start, endsAt: hoursAfter(start, 9), title: "Tuesday, course; room 3" });
    const bobs = await insertBookedReservation(t.db, { projectId: w.projects[1]!.id, userId: bob!.id, poolId: w.pool.id, hostIds: [free[1]!.id], startsAt: start, endsAt: hoursAfter(start, 2) });

    const annFeed = await createCalendarFeed(t.db, as(ann!), {});
    expect(annFeed.url.startsWith(`${TEST_BASE_URL}/calendar/kiln_cal_`)).toBe(true);
    const annEvents = parseFeed(await renderCalendarFeed(t.db, tokenOf(annFeed.url)));
    expect(annEvents.map((e) => e.uid).sort()).toEqual([`lease-${lease.id}@kiln`, `reservation-${mine.id}@kiln`].sort());
    const leaseEvent = annEvents.find((e) => e.uid.startsWith("lease-"))!;
    expect(leaseEvent).toMatchObject({ start: new Date(lease.startsAt).toISOString(), end: new Date(lease.endsAt).toISOString() });
    expect(leaseEvent.summary).toBe(`Kiln lease: ${lease.hosts.map((h) => h.name).sort().join(", ")}`);
    const resEvent = annEvents.find((e) => e.uid.startsWith("reservation-"))!;
    // Commas and semicolons survive the escaping: the client reads back what was written.
    expect(resEvent).toMatchObject({ summary: "Kiln reservation: Tuesday, course; room 3", start: start.toISOString(), end: hoursAfter(start, 9).toISOString() });
    expect(resEvent.description).toContain(`charged to project ${w.projects[0]!.name}`);

    const bobFeed = await createCalendarFeed(t.db, as(bob!), {});
    expect(parseFeed(await renderCalendarFeed(t.db, tokenOf(bobFeed.url))).map((e) => e.uid)).toEqual([`reservation-${bobs.id}@kiln`]);

    // The token is stored as its hash only.
    const stored = (await listRowsAsJson(t.db, "calendar_feeds")).join("\n");
    expect(stored).not.toContain(tokenOf(annFeed.url));
    expect((await listCalendarFeeds(t.db, as(ann!))).data).toEqual([expect.objectContaining({ id: annFeed.id, poolId: null, lastUsedAt: expect.any(Date) })]);
  });

  it("gives a pool's feed its bookings by project, never the person, and its maintenance", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 3, projects: 2 });
    const [ann] = w.members[0]!;
    const [bob] = w.members[1]!;
    const start = hoursAfter(nowToSecond(), 24);
    const res = await insertBookedReservation(t.db, { projectId: w.projects[1]!.id, userId: bob!.id, poolId: w.pool.id, hostIds: [w.hosts[0]!.id, w.hosts[1]!.id], startsAt: start, endsAt: hoursAfter(start, 3), title: "Bob's secret" });
    const mw = await insertMaintenance(t.db, { poolId: w.pool.id, startsAt: hoursAfter(start, 5), endsAt: hoursAfter(start, 6), reason: "PDU swap" });

    const feed = await createCalendarFeed(t.db, as(ann!), { poolId: w.pool.id });
    const text = await renderCalendarFeed(t.db, tokenOf(feed.url));
    const events = parseFeed(text);
    expect(events).toEqual([
      {
        uid: `reservation-${res.id}@kiln`,
        summary: `${w.projects[1]!.name}: 2 hosts (reservation)`,
        description: `Reserved for project ${w.projects[1]!.name}: ${w.hosts[0]!.name}, ${w.hosts[1]!.name}.`,
        start: start.toISOString(),
        end: hoursAfter(start, 3).toISOString(),
      },
      { uid: `maintenance-${mw.id}@kiln`, summary: "Maintenance: the whole pool", description: "Maintenance of the whole pool: PDU swap", start: mw.startsAt.toISOString(), end: mw.endsAt.toISOString() },
    ]);
    expect(text).not.toContain(bob!.email);
    expect(text).not.toContain("Bob's secret");
  });

  it("answers 404 to an unknown, revoked or replaced token, and to a disabled owner's; audits each change", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 1 });
    const [ann] = w.members[0]!;
    const NOT_FOUND = "This calendar feed does not exist or was revoked.";
    await expectAppError(renderCalendarFeed(t.db, ""), "not_found", NOT_FOUND);
    await expectAppError(renderCalendarFeed(t.db, "kiln_cal_nope"), "not_found", NOT_FOUND);

    const first = await createCalendarFeed(t.db, as(ann!), {});
    await renderCalendarFeed(t.db, tokenOf(first.url));
    // Making it again replaces the address: the old one stops working.
    const second = await createCalendarFeed(t.db, as(ann!), {});
    await expectAppError(renderCalendarFeed(t.db, tokenOf(first.url)), "not_found", NOT_FOUND);
    await renderCalendarFeed(t.db, tokenOf(second.url));
    // A pool feed is a scope of its own, beside the personal one.
    const pool = await createCalendarFeed(t.db, as(ann!), { poolId: w.pool.id });
    expect((await listCalendarFeeds(t.db, as(ann!))).data.map((f) => f.id)).toEqual([second.id, pool.id]);

    // Someone else cannot revoke it.
    await expectAppError(revokeCalendarFeed(t.db, w.adminActor, second.id), "not_found", NOT_FOUND);
    await revokeCalendarFeed(t.db, as(ann!), second.id);
    await expectAppError(renderCalendarFeed(t.db, tokenOf(second.url)), "not_found", NOT_FOUND);
    await expectAppError(revokeCalendarFeed(t.db, as(ann!), second.id), "not_found", NOT_FOUND);

    await updateUser(t.db, ann!.id, { disabledAt: new Date() });
    await expectAppError(renderCalendarFeed(t.db, tokenOf(pool.url)), "not_found", NOT_FOUND);

    const audit = (await listAudit(t.db, { targetType: "calendar_feed", actor: ann!.email, limit: 100, offset: 0 })).rows;
    expect(audit.map((r) => r.summary).sort()).toEqual(
      ["created a calendar feed of own bookings", "replaced the calendar feed of own bookings", `created a calendar feed of pool ${w.pool.name}`, "revoked a calendar feed"].sort(),
    );
    await expectAppError(createCalendarFeed(t.db, as(ann!), { poolId: "00000000-0000-4000-8000-000000000000" }), "validation", "That pool does not exist.");
  });
});

describe("reservation reminders", () => {
  it("mails the holder 24 hours and 1 hour before the start, each once, and not for a cancelled reservation", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 2 });
    const [ann] = w.members[0]!;
    // Far from the other tests' reservations (whose reminders this run would send too).
    const start = new Date("2031-03-04T09:00:00Z");
    const res = await insertBookedReservation(t.db, { projectId: w.projects[0]!.id, userId: ann!.id, poolId: w.pool.id, hostIds: [w.hosts[0]!.id], startsAt: start, endsAt: hoursAfter(start, 9), title: "GPU course" });
    await insertBookedReservation(t.db, { projectId: w.projects[0]!.id, userId: ann!.id, poolId: w.pool.id, hostIds: [w.hosts[1]!.id], startsAt: start, endsAt: hoursAfter(start, 2), state: "cancelled" });
    const at = (h: number) => ({ now: hoursAfter(start, -h) });

    expect(await sendReservationReminders(t.db, at(25))).toBe(0);
    expect(await sendReservationReminders(t.db, at(24))).toBe(1);
    const day = await smtp.waitForMail((m) => m.to.includes(ann!.email));
    expect(day.subject).toBe('Your Kiln reservation "GPU course" starts in 24 hours');
    expect(day.text).toContain(`starts at 2031-03-04 09:00 UTC (in 24 hours) and ends at 2031-03-04 18:00 UTC.\nHosts: ${w.hosts[0]!.name}. Project: ${w.projects[0]!.name}.`);
    expect(day.text).toContain(`${TEST_BASE_URL}/reservations/${res.id}`);
    expect(await sendReservationReminders(t.db, at(24))).toBe(0);
    expect(await sendReservationReminders(t.db, at(3))).toBe(0);

    expect(await sendReservationReminders(t.db, at(1))).toBe(1);
    expect(await sendReservationReminders(t.db, at(0.5))).toBe(0);
    // After the start it is a lease: its end is the lease reminders' business.
    expect(await sendReservationReminders(t.db, { now: hoursAfter(start, 1) })).toBe(0);
    expect(smtp.mailsTo(ann!.email).map((m) => m.subject)).toEqual([day.subject, 'Your Kiln reservation "GPU course" starts in 60 minutes']);
    expect(res.remindersSent).toEqual([]);
  });

  it("sends one reminder, not two, to a reservation first seen inside its last hour, even from two workers at once", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 1 });
    const [ann] = w.members[0]!;
    const start = new Date("2032-06-01T12:00:00Z");
    await insertBookedReservation(t.db, { projectId: w.projects[0]!.id, userId: ann!.id, poolId: w.pool.id, hostIds: [w.hosts[0]!.id], startsAt: start, endsAt: hoursAfter(start, 1) });
    const now = { now: hoursAfter(start, -0.5) };
    const [a, b] = await Promise.all([sendReservationReminders(t.db, now), sendReservationReminders(t.db, now)]);
    expect(a + b).toBe(1);
    expect(await sendReservationReminders(t.db, now)).toBe(0);
    await smtp.waitForMail((m) => m.to.includes(ann!.email));
    expect(smtp.mailsTo(ann!.email).map((m) => m.subject)).toEqual([`Your Kiln reservation of 1 host in ${w.pool.name} starts in 30 minutes`]);
  });

  it("leaves the end to the lease reminders: an admitted reservation shows on the timeline, and once started its end is reminded as its lease's", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 1 });
    const [ann] = w.members[0]!;
    const start = new Date("2033-05-10T09:00:00Z");
    const end = hoursAfter(start, 9);
    const r = await createReservation(t.db, as(ann!), { poolId: w.pool.id, startsAt: start.toISOString(), endsAt: end.toISOString(), title: "course" }, { now: hoursAfter(start, -48) });
    const tl = await getPoolTimeline(t.db, as(ann!), w.pool.id, { from: start.toISOString(), to: end.toISOString() });
    expect(tl.items).toEqual([expect.objectContaining({ kind: "reservation", id: r.id, hostId: w.hosts[0]!.id, mine: true, title: "course", startsAt: start, endsAt: end })]);

    expect(await sendReservationReminders(t.db, { now: hoursAfter(start, -1) })).toBe(1);
    expect(await startDueReservation(t.db, r.id, { now: start })).toBe("started");
    await activateReservation(t.db, r.id, { now: start });
    expect(await sendReservationReminders(t.db, { now: hoursAfter(start, 1) })).toBe(0);
    expect(await sendLeaseReminders(t.db, { now: hoursAfter(end, -1) })).toBe(1);
    await smtp.waitForMail((m) => m.to.includes(ann!.email) && m.subject.includes("lease"));
    expect(smtp.mailsTo(ann!.email).map((m) => m.subject)).toEqual(['Your Kiln reservation "course" starts in 60 minutes', `Your Kiln lease of ${w.hosts[0]!.name} ends in 60 minutes`]);
  });
});
