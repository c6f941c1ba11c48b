// The reservation's view links its "ready at the start" deploys: no group before its hosts are
// taken; once advanceReservations (the clock moved by the test) has taken them at prepareFrom
// and started the deploys, getReservation names the group and each host's run in it.
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDeploymentGroupRow } from "@/db/queries/deployment-groups";
import { stopJobSender } from "@/lib/jobs/enqueue";
import { useTestDb } from "@/test/harness/database";
import { setTestEnvDefaults } from "@/test/harness/env";
import { seedReadyImage, startProvisioningSetup, type ProvisioningSetup } from "@/test/harness/provisioning";
import { createReservation, getReservation, listReservations } from "./reservations";
import { DEFAULT_DEPLOY_LEAD_SECONDS } from "./ready";
import { advanceReservations } from "./transitions";

const t = await useTestDb();
const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-ready-view-"));
setTestEnvDefaults({ KILN_DATA_DIR: dataDir });

let setup: ProvisioningSetup;
beforeAll(async () => {
  setup = await startProvisioningSetup(t.db, { name: "rview", macByte: 0xa9 });
});
afterAll(async () => {
  await setup?.close();
  await stopJobSender();
  await fs.rm(dataDir, { recursive: true, force: true });
});

const T0 = new Date("2026-11-16T06:00:00Z");
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

describe("getReservation with a deploy", () => {
  it("has no group until the hosts are taken, then the group of the ready deploys and each host's run", async () => {
    const { holder } = setup;
    const a = await setup.heldHost({ lease: false });
    const b = await setup.heldHost({ lease: false });
    const img = await seedReadyImage(t.db, { ownerUserId: holder.user!.id });
    const r = await createReservation(
      t.db,
      holder,
      { hostIds: [a.hostId, b.hostId], projectId: setup.projectId, startsAt: at(120).toISOString(), endsAt: at(300).toISOString(), deploy: { action: "deploy_image", imageId: img.image.id, imageVersion: "latest" } },
      { now: T0 },
    );
    // No run of this image measured: the default lead.
    expect(r.plan).toMatchObject({ leadSeconds: DEFAULT_DEPLOY_LEAD_SECONDS, samples: 0 });
    expect(r.prepareFrom).toBe(at(90).toISOString());
    expect(r.groupId).toBeNull();
    const before = await getReservation(t.db, holder, r.id);
    expect(before).toMatchObject({ state: "scheduled", groupId: null, readyRuns: [] });

    await advanceReservations(t.db, { now: at(89) });
    expect((await getReservation(t.db, holder, r.id)).groupId).toBeNull();

    await advanceReservations(t.db, { now: at(90) });
    const during = await getReservation(t.db, holder, r.id);
    expect(during.state).toBe("preparing");
    expect(during.groupId).not.toBeNull();
    expect((await getDeploymentGroupRow(t.db, during.groupId!))!.group).toMatchObject({ reservationId: r.id, leaseId: during.leaseId, userId: holder.user!.id });
    expect(during.readyRuns).toEqual([
      { hostId: a.hostId, hostName: a.name, state: "running" },
      { hostId: b.hostId, hostName: b.name, state: "running" },
    ].sort((x, y) => x.hostName.localeCompare(y.hostName)));
    // The list shows the same group (the view is shared).
    const listed = await listReservations(t.db, holder, {});
    expect(listed.data.find((x) => x.id === r.id)?.groupId).toBe(during.groupId);
  });

  it("a reservation with nothing to deploy never has a group", async () => {
    const { holder } = setup;
    const h = await setup.heldHost({ lease: false });
    const r = await createReservation(t.db, holder, { hostIds: [h.hostId], projectId: setup.projectId, startsAt: at(400).toISOString(), endsAt: at(500).toISOString() }, { now: T0 });
    await advanceReservations(t.db, { now: at(400) });
    expect(await getReservation(t.db, holder, r.id)).toMatchObject({ state: "active", groupId: null, readyRuns: [] });
  });
});
