// "Ready at the start": the deploy lead from measured runs (runs started and finished by the test
// at the times it chooses), the deploys started as a group for a reservation's lease, and the
// outcome at the start. The reservation rows are built in memory: these functions only read
// their id, holder, deploy and start.
import { seedReadyImage, startProvisioningSetup, type ProvisioningSetup } from "@/test/harness/provisioning";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDeploymentGroupRow, listGroupDeployments } from "@/db/queries/deployment-groups";
import { getDeploymentRow } from "@/db/queries/deployments";
import type { ReservationDeploy, ReservationRow } from "@/db/schema";
import type { Actor } from "@/lib/access/actor";
import { startDeployment } from "@/lib/deployments/start";
import { failDeployment, finishDeployment, withDeployment } from "@/lib/deployments/engine";
import { retryGroupDeployment } from "@/lib/deployments/groups";
import { createHost } from "@/lib/hosts/hosts";
import { stopJobSender } from "@/lib/jobs/enqueue";
import { createLease } from "@/lib/leases/leases";
import { createTemplate } from "@/lib/templates/templates";
import { useTestDb } from "@/test/harness/database";
import { setTestEnvDefaults } from "@/test/harness/env";
import { checkReadyOutcome, DEFAULT_DEPLOY_LEAD_SECONDS, planDeployLead, startReadyDeploys } from "./ready";

const t = await useTestDb();
const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-ready-"));
setTestEnvDefaults({ KILN_DATA_DIR: dataDir });

let setup: ProvisioningSetup;
let admin: Actor;
let holder: Actor;
let n = 0;

beforeAll(async () => {
  setup = await startProvisioningSetup(t.db, { name: "ready", macByte: 0xa7 });
  ({ admin, holder } = setup);
});
afterAll(async () => {
  await setup?.close();
  await stopJobSender();
  await fs.rm(dataDir, { recursive: true, force: true });
});

const T0 = new Date("2026-11-02T08:00:00Z");
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

/** A run on a held host started at `from` and ended (done unless told) at `to`. */
async function measuredRun(hostId: string, input: Record<string, unknown>, from: Date, to: Date, outcome: "done" | "failed" = "done") {
  const run = await startDeployment(t.db, holder, hostId, input, { now: from });
  await withDeployment(
    t.db,
    run.id,
    async (ctx) => {
      if (outcome === "done") await finishDeployment(ctx, "done");
      else await failDeployment(ctx, "disk on fire");
    },
    to,
  );
  return run.id;
}

async function leaseOf(count: number) {
  const hosts = [];
  for (let i = 0; i < count; i++) {
    const mac = `52:54:00:a7:01:${(++n).toString(16).padStart(2, "0")}`;
    const h = await createHost(t.db, admin, { name: `rdy-${n}`, interfaces: [{ mac }], power: { driver: "plugin", params: { command: setup.plugin.command } } });
    hosts.push({ hostId: h.id, name: h.name });
  }
  const lease = await createLease(t.db, admin, { hostIds: hosts.map((h) => h.hostId), userId: holder.user!.id, projectId: setup.projectId });
  return { leaseId: lease.id, hosts };
}

function reservationRow(deploy: ReservationDeploy | null, startsAt: Date): ReservationRow {
  return {
    id: crypto.randomUUID(),
    projectId: setup.projectId,
    userId: holder.user!.id,
    createdByUserId: holder.user!.id,
    poolId: null,
    title: "course",
    count: 2,
    criteria: {},
    startsAt,
    endsAt: new Date(startsAt.getTime() + 9 * 3600_000),
    prepareFrom: new Date(startsAt.getTime() - 3600_000),
    state: "preparing",
    deploy,
    plan: null,
    leaseId: null,
    failureReason: null,
    remindersSent: [],
    cancelledAt: null,
    createdAt: T0,
  } as ReservationRow;
}

describe("planDeployLead", () => {
  it("uses measured runs of that image version on these hosts first, then other versions, then other hosts; else the default", async () => {
    const img = await seedReadyImage(t.db, { ownerUserId: holder.user!.id });
    const deployV1: ReservationDeploy = { action: "deploy_image", imageId: img.image.id, imageVersion: 1 };
    expect(await planDeployLead(t.db, { deploy: deployV1, hostIds: [] })).toEqual({ leadSeconds: DEFAULT_DEPLOY_LEAD_SECONDS, basis: "default: no finished run of this image to measure", samples: 0 });

    const a = await setup.heldHost();
    const b = await setup.heldHost();
    const c = await setup.heldHost();
    const spec = { action: "deploy_image", imageId: img.image.id, imageVersion: 1 };
    await measuredRun(a.hostId, spec, at(0), at(10));
    await measuredRun(b.hostId, spec, at(0), at(20));
    await measuredRun(c.hostId, spec, at(0), at(60));
    // Not samples: a failed run, and a run of another image.
    await measuredRun(a.hostId, spec, at(100), at(300), "failed");
    const other = await seedReadyImage(t.db, { ownerUserId: holder.user!.id });
    await measuredRun(b.hostId, { action: "deploy_image", imageId: other.image.id }, at(100), at(400));

    // On these hosts: the longest of two (20 min) + 20% + 5 min = 29 min.
    expect(await planDeployLead(t.db, { deploy: deployV1, hostIds: [a.hostId, b.hostId] })).toEqual({
      leadSeconds: 29 * 60,
      basis: "measured: longest of 2 finished runs of this image version on these hosts (20 min), + 20% + 5 min",
      samples: 2,
    });
    // Another version asked for: these hosts' runs of any version still come before other hosts.
    expect(await planDeployLead(t.db, { deploy: { ...deployV1, imageVersion: 2 }, hostIds: [a.hostId, c.hostId] })).toMatchObject({ leadSeconds: 77 * 60, samples: 2, basis: expect.stringContaining("(other versions) on these hosts (60 min)") });
    // Hosts never measured: every host's runs of that version, the longest 60 min → 77 min.
    const fresh = await setup.heldHost();
    expect(await planDeployLead(t.db, { deploy: deployV1, hostIds: [fresh.hostId] })).toMatchObject({ leadSeconds: 77 * 60, samples: 3, basis: expect.stringContaining("this image version on other hosts") });
  });

  it("takes the p90 of ten or more runs, and measures installs by their unattended template", async () => {
    const sys = await createTemplate(t.db, holder, { name: "ipxe-lead", kind: "system", format: "ipxe", source: "#!ipxe\necho hi\n" });
    const un = await createTemplate(t.db, holder, { name: "preseed-lead", kind: "unattended", format: "preseed", source: "d-i debian-installer/locale string en_US\n" });
    const h = await setup.heldHost();
    const spec = { action: "install", systemTemplateId: sys.id, unattendedTemplateId: un.id };
    // 1..10 minutes: the p90 (nearest rank) is the 9th, 9 min → 9 × 1.2 + 5 = 15.8 → 16 min.
    for (let m = 1; m <= 10; m++) await measuredRun(h.hostId, spec, at(m * 100), at(m * 100 + m));
    const plan = await planDeployLead(t.db, { deploy: { action: "install", systemTemplateId: sys.id, systemTemplateVersion: 1, unattendedTemplateId: un.id, unattendedTemplateVersion: 1 }, hostIds: [h.hostId] });
    expect(plan).toEqual({ leadSeconds: 16 * 60, samples: 10, basis: "measured: p90 of 10 finished runs of this unattended template version on these hosts (9 min), + 20% + 5 min" });
  });
});

describe("startReadyDeploys and checkReadyOutcome", () => {
  it("starts the reservation's deploy on its lease's hosts as one powered group, as its holder; met only when every host was done by the start", async () => {
    const img = await seedReadyImage(t.db, { ownerUserId: holder.user!.id });
    const { leaseId, hosts } = await leaseOf(2);
    const startsAt = at(60);
    const reservation = reservationRow({ action: "deploy_image", imageId: img.image.id, imageVersion: 1 }, startsAt);
    expect(await startReadyDeploys(t.db, { reservation: reservationRow(null, startsAt), leaseId, hostIds: hosts.map((h) => h.hostId), now: at(0) })).toBeNull();

    const groupId = await startReadyDeploys(t.db, { reservation, leaseId, hostIds: hosts.map((h) => h.hostId), now: at(0) });
    expect(groupId).not.toBeNull();
    expect((await getDeploymentGroupRow(t.db, groupId!))!.group).toMatchObject({ reservationId: reservation.id, leaseId, userId: holder.user!.id });
    const runs = await listGroupDeployments(t.db, groupId!);
    expect(runs.map((r) => [r.hostName, r.state, r.currentStep])).toEqual(hosts.map((h) => [h.name, "running", "power_on"]));
    for (const r of runs) expect(await getDeploymentRow(t.db, r.id)).toMatchObject({ userId: holder.user!.id, imageVersion: 1, createdAt: at(0) });

    // Before anything finished: nothing met.
    expect(await checkReadyOutcome(t.db, { reservation, now: startsAt })).toEqual({
      met: false,
      checkedAt: startsAt.toISOString(),
      hosts: hosts.map((h) => ({ hostId: h.hostId, name: h.name, state: "running", finishedAt: null, met: false })),
    });
    // One done five minutes before the start, the other five minutes after it.
    await withDeployment(t.db, runs[0]!.id, (ctx) => finishDeployment(ctx, "done"), at(55));
    await withDeployment(t.db, runs[1]!.id, (ctx) => finishDeployment(ctx, "done"), at(65));
    const late = await checkReadyOutcome(t.db, { reservation, now: at(70) });
    expect(late.met).toBe(false);
    expect(late.hosts.map((h) => [h.name, h.state, h.finishedAt, h.met])).toEqual([
      [hosts[0]!.name, "done", at(55).toISOString(), true],
      [hosts[1]!.name, "done", at(65).toISOString(), false],
    ]);
    // Exactly at the start counts as ready.
    const onTime = reservationRow(reservation.deploy, at(65));
    onTime.id = reservation.id;
    expect((await checkReadyOutcome(t.db, { reservation: onTime, now: at(65) })).met).toBe(true);
  });

  it("a failed host's retry that is done in time meets the plan; a reservation with no group is not met", async () => {
    const { leaseId, hosts } = await leaseOf(1);
    const reservation = reservationRow({ action: "wipe_disk" as never }, at(60));
    // wipe_disk is not a reservation deploy, but a group action: the outcome logic is the same.
    const groupId = (await startReadyDeploys(t.db, { reservation, leaseId, hostIds: [hosts[0]!.hostId], now: at(0) }))!;
    const [first] = await listGroupDeployments(t.db, groupId);
    await withDeployment(t.db, first!.id, (ctx) => failDeployment(ctx, "no disks"), at(10));
    const retry = (await retryGroupDeployment(t.db, first!.id, { now: at(11) }))!;
    await withDeployment(t.db, retry, (ctx) => finishDeployment(ctx, "done"), at(30));
    expect(await checkReadyOutcome(t.db, { reservation, now: at(60) })).toMatchObject({ met: true, hosts: [{ name: hosts[0]!.name, state: "done", met: true }] });
    expect(await checkReadyOutcome(t.db, { reservation: reservationRow(reservation.deploy, at(60)), now: at(60) })).toEqual({ met: false, checkedAt: at(60).toISOString(), hosts: [] });
  });
});
