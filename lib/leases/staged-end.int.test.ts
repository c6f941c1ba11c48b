// The staged end of a lease with the clock moved by the test: warned → grace → capturing →
// releasing → returned; a grace cut short (or skipped) by a following reservation's booking;
// no grace when the pool grants none; capture runs delay the wipe (and are bounded).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listAudit } from "@/db/queries/audit";
import { getActiveDeployment } from "@/db/queries/boot";
import { listDeploymentRows } from "@/db/queries/deployments";
import { getLeaseRow, listLeaseEventRows } from "@/db/queries/leases";
import { hostBookings, reservations } from "@/db/schema";
import type { Actor } from "@/lib/access/actor";
import { startDeployment } from "@/lib/deployments/start";
import { finishDeployment, withDeployment } from "@/lib/deployments/engine";
import { createHost } from "@/lib/hosts/hosts";
import { stopJobSender } from "@/lib/jobs/enqueue";
import { createPool, updatePool } from "@/lib/pools/pools";
import { useTestDb } from "@/test/harness/database";
import { setTestEnvDefaults } from "@/test/harness/env";
import { expectAppError } from "@/test/harness/fixtures";
import { hostStates, hoursAfter } from "@/test/harness/inventory";
import { startProvisioningSetup, type ProvisioningSetup } from "@/test/harness/provisioning";
import { startSmtp } from "@/test/harness/smtp";
import { CAPTURE_OVERRUN_HOURS } from "./end-stage";
import { expireDueLeases, sendLeaseReminders } from "./expiry";
import { createLease, extendLease, getLease, releaseLease } from "./leases";
import { advanceLeaseEnds, startLeaseCapture } from "./staged-end";

const t = await useTestDb();
const smtp = await startSmtp();
setTestEnvDefaults({ SMTP_URL: smtp.url, KILN_LEASE_REMINDER_HOURS: "1" });

const MINUTE = 60_000;
const T0 = new Date("2026-11-10T10:00:00Z");
const after = (at: Date, minutes: number) => new Date(at.getTime() + minutes * MINUTE);

let setup: ProvisioningSetup;
let holder: Actor;
beforeAll(async () => {
  setup = await startProvisioningSetup(t.db, { name: "staged", macByte: 0x5e });
  holder = setup.holder;
});
afterAll(async () => {
  await setup?.close();
  await stopJobSender();
  await smtp.stop();
});

let n = 0;
/** A pool with this grace and `hosts` hosts powered by the recording plugin; a lease of all of them to the holder from T0 for 4 hours. */
async function leaseInPool(graceMinutes: number, hosts = 1) {
  const pool = await createPool(t.db, setup.admin, { name: `staged-${++n}`, endGraceMinutes: graceMinutes });
  const ids: string[] = [];
  for (let i = 0; i < hosts; i++) {
    const mac = `52:54:00:5e:${n.toString(16).padStart(2, "0")}:${i.toString(16).padStart(2, "0")}`;
    ids.push((await createHost(t.db, setup.admin, { name: `staged-${n}-${i}`, interfaces: [{ mac }], poolId: pool.id, power: { driver: "plugin", params: { command: setup.plugin.command } } })).id);
  }
  const lease = await createLease(t.db, holder, { poolId: pool.id, count: hosts, durationHours: 4, projectId: setup.projectId }, { now: T0 });
  return { pool, lease, hostIds: ids, end: hoursAfter(T0, 4) };
}

const stagesOf = async (leaseId: string) => (await getLease(t.db, holder, leaseId)).end.stages.map((s) => [s.stage, s.at]);
const eventsOf = async (leaseId: string) => (await listLeaseEventRows(t.db, leaseId)).map((r) => ({ kind: r.event.kind, message: r.event.message }));
const runsOf = async (hostId: string) => (await listDeploymentRows(t.db, { hostId, limit: 100, offset: 0 })).rows.map((r) => r.deployment);
const finish = (deploymentId: string, outcome: "done" | "failed", at: Date) => withDeployment(t.db, deploymentId, (ctx) => finishDeployment(ctx, outcome, outcome === "failed" ? "test: agent gave up" : undefined), at);

/** The lease's host bookings as [start, end) ISO strings. */
async function bookingEnds(leaseId: string): Promise<string[]> {
  const rows = await t.db.select({ during: hostBookings.during, leaseId: hostBookings.leaseId }).from(hostBookings);
  // PostgreSQL writes a range as ["2026-11-10 14:00:00+00","2026-11-10 14:30:00+00")
  return rows.filter((r) => r.leaseId === leaseId).map((r) => new Date(r.during.slice(1, -1).split(",")[1]!.replace(/"/g, "").trim()).toISOString());
}

/** Someone else's reservation of these hosts from `from` to `to`, booked as admission would book it. */
async function reserve(hostIds: string[], from: Date, to: Date) {
  const [r] = await t.db
    .insert(reservations)
    .values({ projectId: setup.projectId, userId: setup.admin.user!.id, count: hostIds.length, startsAt: from, endsAt: to, prepareFrom: from, title: "course" })
    .returning();
  await t.db.insert(hostBookings).values(hostIds.map((hostId) => ({ hostId, reservationId: r!.id, during: `[${from.toISOString()},${to.toISOString()})` })));
  return r!;
}

describe("the staged end of a lease", () => {
  it("warned → grace → capturing → releasing → returned, each stage an event with its time; the wipe waits for the capture", async () => {
    const { lease, hostIds, end } = await leaseInPool(30);
    const [hostId] = hostIds as [string];
    const graceEnd = after(end, 30);

    // Warned: the reminder mail offers the capture, one click to the lease's capture dialog.
    expect(await sendLeaseReminders(t.db, { now: after(end, -60) })).toBe(1);
    const mail = smtp.mailsTo(holder.user!.email).at(-1)!;
    expect(mail.text).toContain(`Capture the disk before it is wiped`);
    expect(mail.text).toContain(`http://kiln.test/?capture=${lease.id}`);
    expect(mail.text).toContain("sign in to Kiln first if asked");
    expect(mail.text).toContain("30 minutes of grace");
    expect((await getLeaseRow(t.db, lease.id))!.endStage).toBe("warned");

    // At the end: grace, the lease still active, its booking stretched to the grace's end.
    expect(await expireDueLeases(t.db, { now: end })).toBe(0);
    let row = (await getLeaseRow(t.db, lease.id))!;
    expect(row).toMatchObject({ state: "active", endStage: "grace", graceEndsAt: graceEnd });
    expect(await hostStates(t.db, hostIds)).toEqual({ [hostId]: "leased" });
    expect(await bookingEnds(lease.id)).toEqual([graceEnd.toISOString()]);
    // Nothing happens in the middle of the grace.
    expect(await expireDueLeases(t.db, { now: after(end, 10) })).toBe(0);

    // In grace only a capture may run.
    await expectAppError(startDeployment(t.db, holder, hostId, { action: "wipe_disk" }, { now: after(end, 5) }), "conflict", /grace period until .*capture the disk/);
    const run = await startLeaseCapture(t.db, holder, lease.id, { hostId, newImageName: "before-the-wipe" }, { now: after(end, 5) });
    expect(run.action).toBe("capture_disk");
    expect((await getLeaseRow(t.db, lease.id))!.endStage).toBe("capturing");

    // The grace ends while the capture runs: the lease ends, the host waits in releasing, no wipe yet.
    expect(await expireDueLeases(t.db, { now: graceEnd })).toBe(1);
    row = (await getLeaseRow(t.db, lease.id))!;
    expect(row).toMatchObject({ state: "expired", endStage: "capturing" });
    expect(await hostStates(t.db, hostIds)).toEqual({ [hostId]: "releasing" });
    expect((await getActiveDeployment(t.db, hostId))!.id).toBe(run.id);
    await advanceLeaseEnds(t.db, { now: after(graceEnd, 10) });
    expect((await getActiveDeployment(t.db, hostId))!.id).toBe(run.id);
    expect((await runsOf(hostId)).filter((d) => d.origin === "release")).toEqual([]);

    // The capture ends (here: fails): the next pass powers off and wipes.
    await finish(run.id, "failed", after(graceEnd, 12));
    expect((await advanceLeaseEnds(t.db, { now: after(graceEnd, 13) })).releasing).toBe(1);
    expect((await getLeaseRow(t.db, lease.id))!.endStage).toBe("releasing");
    const wipe = (await runsOf(hostId)).find((d) => d.origin === "release")!;
    expect(wipe).toMatchObject({ action: "wipe_disk", leaseId: lease.id, state: "running" });

    // Wiped: the host is available, and the next pass marks the lease returned.
    expect((await advanceLeaseEnds(t.db, { now: after(graceEnd, 14) })).returned).toBe(0);
    await finish(wipe.id, "done", after(graceEnd, 20));
    expect(await hostStates(t.db, hostIds)).toEqual({ [hostId]: "available" });
    expect((await advanceLeaseEnds(t.db, { now: after(graceEnd, 21) })).returned).toBe(1);

    expect(await stagesOf(lease.id)).toEqual([
      ["warned", after(end, -60).toISOString()],
      ["grace", end.toISOString()],
      ["capturing", after(end, 5).toISOString()],
      ["releasing", after(graceEnd, 13).toISOString()],
      ["returned", after(graceEnd, 21).toISOString()],
    ]);
    const view = await getLease(t.db, holder, lease.id);
    expect(view.end).toMatchObject({ stage: "returned", graceMinutes: 30, captures: [{ deploymentId: run.id, hostId, state: "failed" }] });
  });

  it("cuts the grace short at a reservation that follows on one of the hosts, and says whose", async () => {
    const { lease, hostIds, end } = await leaseInPool(60, 2);
    await reserve([hostIds[1]!], after(end, 20), after(end, 180));
    expect(await expireDueLeases(t.db, { now: end })).toBe(0);
    const row = (await getLeaseRow(t.db, lease.id))!;
    expect(row).toMatchObject({ state: "active", endStage: "grace", graceEndsAt: after(end, 20) });
    expect(await bookingEnds(lease.id)).toEqual([after(end, 20).toISOString(), after(end, 20).toISOString()]);
    const grace = (await eventsOf(lease.id)).find((e) => e.kind === "end_stage" && e.message.startsWith("grace"))!;
    expect(grace.message).toMatch(/^grace cut short to .* \(pool staged-\d+ grants 60 minutes\): staged-\d+-1 is booked from .* by project staged \(a reservation\)$/);

    // At the shortened end the lease is released, in time for the reservation.
    expect(await expireDueLeases(t.db, { now: after(end, 20) })).toBe(1);
    expect((await getLeaseRow(t.db, lease.id))!.state).toBe("expired");
  });

  it("skips the grace when a reservation starts right at the lease's end", async () => {
    const { lease, hostIds, end } = await leaseInPool(60);
    await reserve(hostIds, end, after(end, 120));
    expect(await expireDueLeases(t.db, { now: end })).toBe(1);
    const row = (await getLeaseRow(t.db, lease.id))!;
    expect(row).toMatchObject({ state: "expired", endStage: "releasing", graceEndsAt: null });
    expect((await eventsOf(lease.id)).map((e) => e.kind)).toContain("grace_skipped");
    expect((await eventsOf(lease.id)).find((e) => e.kind === "grace_skipped")!.message).toMatch(/^no grace period \(pool staged-\d+ grants 60 minutes\): staged-\d+-0 is booked from .* by project staged \(a reservation\)$/);
  });

  it("has no grace when the pool grants none: released at the end, as before", async () => {
    const { lease, hostIds, end } = await leaseInPool(0);
    expect(await expireDueLeases(t.db, { now: end })).toBe(1);
    const row = (await getLeaseRow(t.db, lease.id))!;
    expect(row).toMatchObject({ state: "expired", endStage: "releasing", graceEndsAt: null });
    expect(await hostStates(t.db, hostIds)).toEqual({ [hostIds[0]!]: "releasing" });
    expect((await runsOf(hostIds[0]!)).map((d) => [d.origin, d.action])).toEqual([["release", "wipe_disk"]]);
  });

  it("a capture started before the end delays the wipe, but only for CAPTURE_OVERRUN_HOURS", async () => {
    const { lease, hostIds, end } = await leaseInPool(0);
    const hostId = hostIds[0]!;
    const run = await startLeaseCapture(t.db, holder, lease.id, { hostId, newImageName: "last-minute" }, { now: after(end, -10) });
    expect(await expireDueLeases(t.db, { now: end })).toBe(1);
    expect((await getLeaseRow(t.db, lease.id))!.endStage).toBe("capturing");
    expect((await getActiveDeployment(t.db, hostId))!.id).toBe(run.id);

    await advanceLeaseEnds(t.db, { now: hoursAfter(end, CAPTURE_OVERRUN_HOURS - 0.1) });
    expect((await getActiveDeployment(t.db, hostId))!.id).toBe(run.id);
    // Past the bound the capture is cancelled like any run of the last holder, and the wipe starts.
    await advanceLeaseEnds(t.db, { now: hoursAfter(end, CAPTURE_OVERRUN_HOURS) });
    const runs = await runsOf(hostId);
    expect(runs.find((d) => d.id === run.id)!.state).toBe("cancelled");
    expect(runs.find((d) => d.origin === "release")!.state).toBe("running");
    await advanceLeaseEnds(t.db, { now: hoursAfter(end, CAPTURE_OVERRUN_HOURS + 0.1) });
    expect((await getLeaseRow(t.db, lease.id))!.endStage).toBe("releasing");
  });

  it("an extension during grace ends it; a release during grace goes straight to the wipe", async () => {
    const { lease, end } = await leaseInPool(30);
    await expireDueLeases(t.db, { now: end });
    expect((await getLeaseRow(t.db, lease.id))!.endStage).toBe("grace");
    await extendLease(t.db, holder, lease.id, { hours: 2 }, { now: after(end, 5) });
    await advanceLeaseEnds(t.db, { now: after(end, 6) });
    expect((await getLeaseRow(t.db, lease.id))!).toMatchObject({ state: "active", endStage: null, graceEndsAt: null });
    expect(await bookingEnds(lease.id)).toEqual([hoursAfter(end, 2).toISOString()]);

    await expireDueLeases(t.db, { now: hoursAfter(end, 2) });
    expect((await getLeaseRow(t.db, lease.id))!.endStage).toBe("grace");
    await releaseLease(t.db, holder, lease.id, { now: after(hoursAfter(end, 2), 1) });
    // Plugin hosts are wiped: releasing until the wipe is done.
    expect((await getLeaseRow(t.db, lease.id))!).toMatchObject({ state: "released", endStage: "releasing" });
  });

  it("the pool's grace is validated and audited", async () => {
    const pool = await createPool(t.db, setup.admin, { name: `staged-v-${++n}` });
    expect(pool.endGraceMinutes).toBe(0);
    await expectAppError(updatePool(t.db, setup.admin, pool.id, { endGraceMinutes: -1 }), "validation");
    await expectAppError(updatePool(t.db, setup.admin, pool.id, { endGraceMinutes: 7 * 24 * 60 + 1 }), "validation");
    await expectAppError(updatePool(t.db, holder, pool.id, { endGraceMinutes: 30 }), "forbidden");
    expect((await updatePool(t.db, setup.admin, pool.id, { endGraceMinutes: 45 }))!.endGraceMinutes).toBe(45);
    const [audit] = (await listAudit(t.db, { action: "pool.update", targetId: pool.id, limit: 10, offset: 0 })).rows;
    expect(audit).toMatchObject({ summary: `updated pool ${pool.name} (grace after a lease ends: 0 → 45 minutes)`, data: { endGraceMinutes: 45 } });
  });
});
