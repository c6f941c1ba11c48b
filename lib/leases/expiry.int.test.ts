// The expiry job and lease reminders with a controlled clock, against the test SMTP server.
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { createDb } from "@/db/client";
import { listAudit } from "@/db/queries/audit";
import { listHostEventsOfLease } from "@/db/queries/hosts";
import { getLeaseRow, listLeaseEventRows } from "@/db/queries/leases";
import { countLockWaiters } from "@/db/queries/testing";
import { useTestDb } from "@/test/harness/database";
import { setTestEnv, setTestEnvDefaults } from "@/test/harness/env";
import { expectAppError } from "@/test/harness/fixtures";
import { as, hostStates, hoursAfter, seedLeaseWorld } from "@/test/harness/inventory";
import { startSmtp, unusedSmtpUrl } from "@/test/harness/smtp";
import { expireDueLeases, sendLeaseReminders } from "./expiry";
import { createLease, extendLease, getLease, handOverLease, releaseLease } from "./leases";

const t = await useTestDb();
const smtp = await startSmtp();
setTestEnvDefaults({ SMTP_URL: smtp.url, KILN_LEASE_REMINDER_HOURS: "24,1" });
const side = createDb(t.url, { max: 3 });
afterAll(async () => {
  await side.close();
  await smtp.stop();
});

const MINUTE = 60_000;
const T0 = new Date("2026-11-10T10:00:00Z");

// Both jobs act on every active lease in the database: end the previous tests' leases first
// so that counts returned here are this test's own.
beforeEach(async () => {
  await expireDueLeases(t.db, { now: new Date("2100-01-01T00:00:00Z") });
});

// Without the staged end's stage events (end_stage), which staged-end.int.test.ts checks.
async function leaseEventKinds(leaseId: string): Promise<string[]> {
  return (await listLeaseEventRows(t.db, leaseId)).map((r) => r.event.kind).filter((k) => k !== "end_stage");
}

/** Resolves once `n` sessions of this database wait for a lock. */
async function waitForLockWaiters(n: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const waiting = await countLockWaiters(side.db);
    if (waiting >= n) return;
    if (Date.now() > deadline) throw new Error(`expected ${n} sessions waiting for a lock, saw ${waiting}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Holds the lease row locked (as a slow transaction would) until the returned function is called. */
async function holdLeaseLock(leaseId: string): Promise<{ release: () => Promise<void> }> {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  let locked!: () => void;
  const isLocked = new Promise<void>((r) => (locked = r));
  const done = side.db.transaction(async (tx) => {
    await getLeaseRow(tx, leaseId, { lock: true });
    locked();
    await gate;
  });
  await isLocked;
  return { release: async () => (open(), await done) };
}

describe("lease expiry", () => {
  it("leaves a lease alone a minute before its end and expires it at its end, once", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 3 });
    const ann = w.members[0]![0]!;
    const lease = await createLease(t.db, as(ann), { poolId: w.pool.id, count: 2, durationHours: 4 }, { now: T0 });
    const end = hoursAfter(T0, 4);
    const ids = lease.hosts.map((h) => h.id);

    expect(await expireDueLeases(t.db, { now: new Date(end.getTime() - MINUTE) })).toBe(0);
    expect((await getLease(t.db, as(ann), lease.id)).state).toBe("active");
    expect(Object.values(await hostStates(t.db, ids))).toEqual(["leased", "leased"]);

    expect(await expireDueLeases(t.db, { now: end })).toBe(1);
    const expired = await getLease(t.db, as(ann), lease.id);
    expect(expired).toMatchObject({ state: "expired", endedAt: end.toISOString() });
    expect(expired.hosts.every((h) => h.releasedAt === end.toISOString())).toBe(true);
    expect(Object.values(await hostStates(t.db, ids))).toEqual(["available", "available"]);
    const names = lease.hosts.map((h) => h.name).sort().join(", ");
    expect(expired.events.map((e) => [e.kind, e.message])).toEqual([
      ["created", expect.stringContaining(`${names} leased to ${ann.email}`)],
      ["expired", `expired: ${names}`],
      // The staged end's stages (lib/leases/staged-end.int.test.ts): no grace in this pool, no wipe for manual hosts.
      ["end_stage", `powering off and wiping ${names}`],
      ["end_stage", expect.stringMatching(/^back in the pool: /)],
    ]);
    // Each host went leased → releasing → available, recorded against the lease.
    const transitions = (await listHostEventsOfLease(t.db, { hostId: ids[0]!, leaseId: lease.id })).map((e) => ({ from: e.fromState, to: e.toState }));
    expect(transitions).toEqual([
      { from: "available", to: "leased" },
      { from: "leased", to: "releasing" },
      { from: "releasing", to: "available" },
    ]);
    const [audit] = (await listAudit(t.db, { action: "lease.expire", targetId: lease.id, limit: 100, offset: 0 })).rows;
    expect(audit).toMatchObject({ actorEmail: "system", actorUserId: null, summary: `expired lease of ${names}` });

    // A second run (or a second worker) finds nothing to do and writes nothing.
    const eventsBefore = await leaseEventKinds(lease.id);
    expect(await expireDueLeases(t.db, { now: end })).toBe(0);
    expect(await expireDueLeases(t.db, { now: hoursAfter(end, 1) })).toBe(0);
    expect(await leaseEventKinds(lease.id)).toEqual(eventsBefore);
  });

  it("expires each due lease once when two workers run at the same moment", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 10 });
    const ann = as(w.members[0]![0]!);
    const created = [];
    for (let i = 0; i < 10; i++) created.push(await createLease(t.db, ann, { poolId: w.pool.id, durationHours: 1 + i / 10 }, { now: T0 }));
    const now = hoursAfter(T0, 3);
    const [a, b] = await Promise.all([expireDueLeases(side.db, { now }), expireDueLeases(t.db, { now })]);
    expect(a + b).toBe(10);
    for (const l of created) expect(await leaseEventKinds(l.id)).toEqual(["created", "expired"]);
    expect(Object.values(await hostStates(t.db, w.hosts.map((h) => h.id)))).toEqual(Array(10).fill("available"));
  });

  it("does not fail when the holder releases the lease while the expiry job is ending it", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 1 });
    const ann = w.members[0]![0]!;
    const lease = await createLease(t.db, as(ann), { poolId: w.pool.id, durationHours: 1 }, { now: T0 });
    const end = hoursAfter(T0, 1);

    // The holder's release takes the lease row first; the job, which already listed the
    // lease as due, waits behind it and must then find it released.
    const lock = await holdLeaseLock(lease.id);
    const release = releaseLease(t.db, as(ann), lease.id, { now: end });
    await waitForLockWaiters(1);
    const expiry = expireDueLeases(t.db, { now: end });
    await waitForLockWaiters(2);
    await lock.release();
    expect((await release).state).toBe("released");
    expect(await expiry).toBe(0);
    expect(await leaseEventKinds(lease.id)).toEqual(["created", "released"]);
    expect(Object.values(await hostStates(t.db, [lease.hosts[0]!.id]))).toEqual(["available"]);
  });

  it("tells a holder who releases a lease the job just expired that it has expired", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 1 });
    const ann = w.members[0]![0]!;
    const lease = await createLease(t.db, as(ann), { poolId: w.pool.id, durationHours: 1 }, { now: T0 });
    const end = hoursAfter(T0, 1);

    const lock = await holdLeaseLock(lease.id);
    const expiry = expireDueLeases(t.db, { now: end });
    await waitForLockWaiters(1);
    // Settled at once: it rejects while this test still waits for the expiry.
    const release = Promise.allSettled([releaseLease(t.db, as(ann), lease.id, { now: end })]);
    await waitForLockWaiters(2);
    await lock.release();
    expect(await expiry).toBe(1);
    const [outcome] = await release;
    await expectAppError(outcome.status === "rejected" ? Promise.reject(outcome.reason) : Promise.resolve(), "conflict", "This lease has already expired.");
    expect(await leaseEventKinds(lease.id)).toEqual(["created", "expired"]);
  });
});

describe("lease reminders", () => {
  it("mails a 48-hour lease's holder 24 hours before the end, once, and again 1 hour before", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 3 });
    const ann = w.members[0]![0]!;
    const lease = await createLease(t.db, as(ann), { poolId: w.pool.id, count: 2, durationHours: 48 }, { now: T0 });
    const end = hoursAfter(T0, 48);
    const names = lease.hosts.map((h) => h.name).join(", ");

    expect(await sendLeaseReminders(t.db, { now: T0 })).toBe(0);
    expect(await sendLeaseReminders(t.db, { now: new Date(hoursAfter(end, -24).getTime() - MINUTE) })).toBe(0);
    expect(smtp.mailsTo(ann.email)).toEqual([]);

    expect(await sendLeaseReminders(t.db, { now: hoursAfter(end, -24) })).toBe(1);
    const day = await smtp.waitForMail((m) => m.to.includes(ann.email));
    expect(day.subject).toBe(`Your Kiln lease of ${names} ends in 24 hours`);
    expect(day.text).toContain(`Your lease of ${names} ends at 2026-11-12 10:00 UTC (in 24 hours).`);
    expect(day.text).toContain("http://kiln.test/");

    // Later runs inside the 24-hour window do not mail again.
    expect(await sendLeaseReminders(t.db, { now: hoursAfter(end, -24) })).toBe(0);
    expect(await sendLeaseReminders(t.db, { now: hoursAfter(end, -12) })).toBe(0);
    expect(smtp.mailsTo(ann.email)).toHaveLength(1);

    expect(await sendLeaseReminders(t.db, { now: hoursAfter(end, -1) })).toBe(1);
    expect(await sendLeaseReminders(t.db, { now: new Date(end.getTime() - 30 * MINUTE) })).toBe(0);
    const mails = smtp.mailsTo(ann.email);
    expect(mails.map((m) => m.subject)).toEqual([day.subject, `Your Kiln lease of ${names} ends in 60 minutes`]);
    expect(mails[1]!.text).toContain(`Your lease of ${names} ends at 2026-11-12 10:00 UTC (in 60 minutes).`);
  });

  it("sends a 2-hour lease only the 1-hour reminder", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 1 });
    const ann = w.members[0]![0]!;
    const lease = await createLease(t.db, as(ann), { poolId: w.pool.id, durationHours: 2 }, { now: T0 });
    expect(await sendLeaseReminders(t.db, { now: T0 })).toBe(0);
    expect(await sendLeaseReminders(t.db, { now: hoursAfter(T0, 1) })).toBe(1);
    expect(await sendLeaseReminders(t.db, { now: hoursAfter(T0, 1.5) })).toBe(0);
    expect(smtp.mailsTo(ann.email).map((m) => m.subject)).toEqual([`Your Kiln lease of ${lease.hosts[0]!.name} ends in 60 minutes`]);
  });

  it("sends only the 1-hour reminder when the first run is already inside the last hour", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 1 });
    const ann = w.members[0]![0]!;
    await createLease(t.db, as(ann), { poolId: w.pool.id, durationHours: 48 }, { now: T0 });
    expect(await sendLeaseReminders(t.db, { now: hoursAfter(T0, 47.5) })).toBe(1);
    expect(await sendLeaseReminders(t.db, { now: hoursAfter(T0, 47.6) })).toBe(0);
    expect(smtp.mailsTo(ann.email).map((m) => m.subject)).toEqual([expect.stringMatching(/ends in 30 minutes$/)]);
  });

  it("starts the reminders over when the lease is extended", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 1 });
    const ann = w.members[0]![0]!;
    const lease = await createLease(t.db, as(ann), { poolId: w.pool.id, durationHours: 48 }, { now: T0 });
    const end = hoursAfter(T0, 48);
    expect(await sendLeaseReminders(t.db, { now: hoursAfter(end, -24) })).toBe(1);
    expect(await sendLeaseReminders(t.db, { now: hoursAfter(end, -1) })).toBe(1);

    await extendLease(t.db, as(ann), lease.id, { hours: 24 }, { now: hoursAfter(end, -1) });
    const newEnd = hoursAfter(end, 24);
    expect(await sendLeaseReminders(t.db, { now: hoursAfter(end, -1) })).toBe(0);
    expect(await sendLeaseReminders(t.db, { now: hoursAfter(newEnd, -24) })).toBe(1);
    expect(await sendLeaseReminders(t.db, { now: hoursAfter(newEnd, -1) })).toBe(1);
    const subjects = smtp.mailsTo(ann.email).map((m) => m.subject.replace(/^.* ends in /, ""));
    expect(subjects).toEqual(["24 hours", "60 minutes", "24 hours", "60 minutes"]);
    expect(smtp.mailsTo(ann.email)[2]!.text).toContain("ends at 2026-11-13 10:00 UTC");
  });

  it("reminds the new holder after a hand-over", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 1, membersPerProject: 2 });
    const [ann, ben] = w.members[0]!;
    const lease = await createLease(t.db, as(ann!), { poolId: w.pool.id, durationHours: 48 }, { now: T0 });
    await handOverLease(t.db, as(ann!), lease.id, { toEmail: ben!.email }, { now: T0 });
    expect(await sendLeaseReminders(t.db, { now: hoursAfter(T0, 24) })).toBe(1);
    expect(smtp.mailsTo(ann!.email)).toEqual([]);
    expect(smtp.mailsTo(ben!.email)).toHaveLength(1);
  });

  it("tries again on the next run when the mail server is down", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 1 });
    const ann = w.members[0]![0]!;
    await createLease(t.db, as(ann), { poolId: w.pool.id, durationHours: 2 }, { now: T0 });
    setTestEnv({ SMTP_URL: await unusedSmtpUrl() });
    expect(await sendLeaseReminders(t.db, { now: hoursAfter(T0, 1) })).toBe(0);
    setTestEnv();
    expect(await sendLeaseReminders(t.db, { now: hoursAfter(T0, 1.1) })).toBe(1);
    expect(smtp.mailsTo(ann.email)).toHaveLength(1);
  });
});
