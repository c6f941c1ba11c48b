// Deploy many at once: a group over the hosts of one lease, each host's run driven by the test as
// the machine (over HTTP) or by Kiln's retry job's handler called directly (no pg-boss worker
// here): a failed host is retried alone up to max_attempts; refusals per host and per request.
import { FakeMachine, seedReadyImage, startProvisioningSetup, type ProvisioningSetup } from "@/test/harness/provisioning";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDeploymentRow, listDeploymentRows } from "@/db/queries/deployments";
import { listHostEvents } from "@/db/queries/hosts";
import type { Actor } from "@/lib/access/actor";
import { createHost } from "@/lib/hosts/hosts";
import { stopJobSender } from "@/lib/jobs/enqueue";
import { createLease } from "@/lib/leases/leases";
import { useTestDb } from "@/test/harness/database";
import { setTestEnvDefaults } from "@/test/harness/env";
import { expectAppError } from "@/test/harness/fixtures";
import { recordReadyImageVersion } from "@/test/harness/images";
import { cancelDeployment } from "./commands";
import { startDeployment } from "./start";
import { getDeploymentGroup, retryDueGroupDeployments, retryFailedGroupHosts, retryGroupDeployment, startDeploymentGroup, startLeaseDeploy } from "./groups";

const t = await useTestDb();
const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-groups-"));
setTestEnvDefaults({ KILN_DATA_DIR: dataDir });

let setup: ProvisioningSetup;
let admin: Actor;
let holder: Actor;
let outsider: Actor;
let n = 0;

beforeAll(async () => {
  setup = await startProvisioningSetup(t.db, { name: "grp", macByte: 0xa6 });
  ({ admin, holder, outsider } = setup);
});
afterAll(async () => {
  await setup?.close();
  await stopJobSender();
  await fs.rm(dataDir, { recursive: true, force: true });
});

/** One lease of `count` hosts for the holder, each with the machine behind it. */
async function leaseOf(count: number) {
  const hosts = [];
  for (let i = 0; i < count; i++) {
    const mac = `52:54:00:a6:01:${(++n).toString(16).padStart(2, "0")}`;
    const h = await createHost(t.db, admin, { name: `grp-${n}`, interfaces: [{ mac }], power: { driver: "plugin", params: { command: setup.plugin.command } } });
    hosts.push({ hostId: h.id, name: h.name, machine: new FakeMachine(setup.server, mac) });
  }
  const lease = await createLease(t.db, admin, { hostIds: hosts.map((h) => h.hostId), userId: holder.user!.id, projectId: setup.projectId });
  return { leaseId: lease.id, hosts };
}

const runsOf = async (hostId: string) => (await listDeploymentRows(t.db, { hostId, limit: 100, offset: 0 })).rows.map((r) => r.deployment).reverse();

/** The machine boots its run and the agent reports a failure. */
async function failOnMachine(machine: FakeMachine, reason: string) {
  await machine.boot();
  await machine.instructions();
  expect((await machine.failed(reason)).status).toBe(200);
}

describe("a deployment group over a lease's hosts", () => {
  it("starts one run per host with the same pinned image version; one host's failure is retried for that host alone, up to maxAttempts", async () => {
    const { leaseId, hosts } = await leaseOf(3);
    const img = await seedReadyImage(t.db, { ownerUserId: holder.user!.id });
    const started = await startDeploymentGroup(t.db, holder, { leaseId, spec: { action: "deploy_image", imageId: img.image.id }, maxAttempts: 2 });
    expect(started.deploymentIds).toHaveLength(3);
    expect(started.refused).toEqual([]);
    for (const h of hosts) {
      const [run] = await runsOf(h.hostId);
      expect(run).toMatchObject({ groupId: started.groupId, action: "deploy_image", imageId: img.image.id, imageVersion: 1, origin: "holder", state: "running" });
    }
    let view = await getDeploymentGroup(t.db, holder, started.groupId);
    expect(view).toMatchObject({ leaseId, action: "deploy_image", maxAttempts: 2, counts: { total: 3, active: 3, done: 0, failed: 0, notStarted: 0 }, canRetryFailed: false });
    expect(view.what).toBe(`image “${img.image.name}” version 1`);
    expect(view.hosts.map((h) => [h.name, h.state, h.step, h.attempts])).toEqual(hosts.map((h) => [h.name, "running", "Power on from the network", 1]));

    // The second host's agent fails: the job Kiln queues retries it, and only it.
    const [, b] = hosts;
    await failOnMachine(b!.machine, "disk /dev/sdz not found");
    const firstB = (await runsOf(b!.hostId))[0]!;
    expect(firstB.state).toBe("failed");
    const retry = await retryGroupDeployment(t.db, firstB.id);
    expect(retry).not.toBeNull();
    // Run twice (a job retried by pg-boss, the sweep): no second retry.
    expect(await retryGroupDeployment(t.db, firstB.id)).toBeNull();
    expect(await retryDueGroupDeployments(t.db, {})).toEqual({ retried: [] });
    const bRuns = await runsOf(b!.hostId);
    expect(bRuns.map((r) => [r.state, r.groupId, r.retryOfId, r.imageVersion])).toEqual([
      ["failed", started.groupId, null, 1],
      ["running", started.groupId, firstB.id, 1],
    ]);
    for (const other of [hosts[0]!, hosts[2]!]) expect((await runsOf(other.hostId)).map((r) => r.state)).toEqual(["running"]);
    view = await getDeploymentGroup(t.db, holder, started.groupId);
    expect(view.hosts.map((h) => [h.state, h.attempts])).toEqual([
      ["running", 1],
      ["running", 2],
      ["running", 1],
    ]);

    // The retry fails too: two runs of two used, no third from Kiln; the host's timeline says why.
    await failOnMachine(b!.machine, "disk /dev/sdz not found");
    const secondB = (await runsOf(b!.hostId))[1]!;
    expect(secondB.state).toBe("failed");
    expect(await retryGroupDeployment(t.db, secondB.id)).toBeNull();
    expect(await retryDueGroupDeployments(t.db, {})).toEqual({ retried: [] });
    expect(await runsOf(b!.hostId)).toHaveLength(2);
    expect((await listHostEvents(t.db, { hostId: b!.hostId, limit: 100 })).map((e) => e.event.message)).toContain(`not retried: 2 of 2 runs used in deployment group ${started.groupId}`);
    view = await getDeploymentGroup(t.db, holder, started.groupId);
    expect(view.hosts[1]).toMatchObject({ state: "failed", attempts: 2, failureReason: "Write the image: disk /dev/sdz not found" });
    expect(view.counts).toMatchObject({ active: 2, failed: 1 });
    expect(view.canRetryFailed).toBe(true);

    // The person's "Retry failed hosts": the failed host again, the running ones left alone.
    const after = await retryFailedGroupHosts(t.db, holder, started.groupId);
    expect(after.refused).toEqual([]);
    expect(after.hosts.map((h) => [h.state, h.attempts])).toEqual([
      ["running", 1],
      ["running", 3],
      ["running", 1],
    ]);
    await expectAppError(retryFailedGroupHosts(t.db, holder, started.groupId), "conflict", "No host of this group has failed; nothing to retry.");
  });

  it("the sweep retries a failed group run whose job was lost", async () => {
    const { leaseId, hosts } = await leaseOf(2);
    const started = await startDeploymentGroup(t.db, holder, { leaseId, spec: { action: "wipe_disk" }, maxAttempts: 3 });
    await failOnMachine(hosts[0]!.machine, "no disks found");
    const { retried } = await retryDueGroupDeployments(t.db, {});
    expect(retried).toHaveLength(1);
    expect((await getDeploymentRow(t.db, retried[0]!))).toMatchObject({ hostId: hosts[0]!.hostId, groupId: started.groupId, action: "wipe_disk", state: "running" });
  });

  it("starts on the hosts that can and says why the others did not; refuses a host not in the lease, someone else's lease and capture", async () => {
    const { leaseId, hosts } = await leaseOf(3);
    const img = await seedReadyImage(t.db, { ownerUserId: holder.user!.id });
    const spec = { action: "deploy_image", imageId: img.image.id };
    // A host of another lease: the whole request is refused, nothing started.
    const other = await leaseOf(1);
    const e = await expectAppError(startDeploymentGroup(t.db, holder, { leaseId, hostIds: [hosts[0]!.hostId, other.hosts[0]!.hostId], spec }), "validation", /not in this lease.*nothing was started/);
    expect(e.details?.fieldErrors?.hostIds).toBeDefined();
    expect(await runsOf(hosts[0]!.hostId)).toEqual([]);
    // Someone else's lease, and its group, do not exist for them.
    await expectAppError(startDeploymentGroup(t.db, outsider, { leaseId, spec }), "not_found", "That lease does not exist.");
    await expectAppError(startDeploymentGroup(t.db, holder, { leaseId, spec: { action: "capture_disk", imageId: img.image.id } }), "validation", /capture a disk from its host's page/);
    await expectAppError(startDeploymentGroup(t.db, holder, { leaseId, spec: { action: "install" } }), "validation", /Choose the system \(boot\) template/);

    // One host busy with its own run: the other two start, the busy one is named with the reason.
    const busy = await startDeployment(t.db, holder, hosts[1]!.hostId, { action: "wipe_disk" });
    const view = await startLeaseDeploy(t.db, holder, leaseId, { spec, hostIds: hosts.map((h) => h.hostId) });
    expect(view.refused).toEqual([{ hostId: hosts[1]!.hostId, name: hosts[1]!.name, reason: expect.stringContaining(`busy: wipe the disks (deployment ${busy.id})`) }]);
    expect(view.hosts.map((h) => [h.name, h.state, h.attempts])).toEqual([
      [hosts[0]!.name, "running", 1],
      [hosts[1]!.name, "not_started", 0],
      [hosts[2]!.name, "running", 1],
    ]);
    await expectAppError(getDeploymentGroup(t.db, outsider, view.id), "not_found", "That deployment group does not exist.");
    // An administrator sees it; every host busy is a 409 with each reason, and no empty group.
    expect((await getDeploymentGroup(t.db, admin, view.id)).hosts).toHaveLength(3);
    await expectAppError(startDeploymentGroup(t.db, admin, { leaseId, hostIds: [hosts[0]!.hostId], spec }), "conflict", new RegExp(`No host could start: ${hosts[0]!.name}: .*busy`));

    // Once the busy host is free, Retry failed hosts starts it with the group's pinned version,
    // though the image has a newer one by then (the spec said "latest": read once, at the start).
    await cancelDeployment(t.db, holder, busy.id);
    expect((await recordReadyImageVersion(t.db, { imageId: img.image.id, uploadedByUserId: holder.user!.id, sizeBytes: 512, sha256: "0".repeat(64) })).version).toBe(2);
    const retried = await retryFailedGroupHosts(t.db, holder, view.id);
    expect(retried.hosts.map((h) => [h.name, h.state, h.attempts])).toEqual([
      [hosts[0]!.name, "running", 1],
      [hosts[1]!.name, "running", 1],
      [hosts[2]!.name, "running", 1],
    ]);
    expect((await runsOf(hosts[1]!.hostId)).at(-1)).toMatchObject({ groupId: view.id, imageId: img.image.id, imageVersion: 1, action: "deploy_image" });
  });
});
