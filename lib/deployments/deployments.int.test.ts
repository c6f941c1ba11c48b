// Provisioning runs through lib/ and the machine-facing routes over HTTP, with the worker's
// part called directly (runWorkerSteps, checkDeadlines on a controlled clock): refusals
// before anything is powered, the steps of each action, every deadline's reason, the agent
// protocol's rules, cancel and retry, and the wipe at a lease's end.
import { FakeMachine, seedReadyImage, startProvisioningSetup, type ProvisioningSetup } from "@/test/harness/provisioning";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getTemplateByBuiltinKey } from "@/db/queries/templates";
import { getDeploymentRow, listDeploymentRows } from "@/db/queries/deployments";
import { getHostRow } from "@/db/queries/hosts";
import { listOutboxMailTo } from "@/db/queries/outbox";
import type { Actor } from "@/lib/access/actor";
import { markForReinstall, updateBootSettings } from "@/lib/boot/boot-settings";
import { listLeases, releaseLease } from "@/lib/leases/leases";
import { stopJobSender } from "@/lib/jobs/enqueue";
import { createTemplate } from "@/lib/templates/templates";
import { useTestDb } from "@/test/harness/database";
import { setTestEnvDefaults } from "@/test/harness/env";
import { expectAppError } from "@/test/harness/fixtures";
import type { RouteServer } from "@/test/harness/http-server";
import { cancelDeployment, retryDeployment } from "./commands";
import { getDeployment, listDeployments } from "./views";
import { startDeployment } from "./start";
import { checkDeadlines, runWorkerSteps } from "./worker";

const t = await useTestDb();
const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-deploy-"));
setTestEnvDefaults({ KILN_DATA_DIR: dataDir });

let setup: ProvisioningSetup;
let admin: Actor;
let holder: Actor;
let outsider: Actor;
let server: RouteServer;
let plugin: ProvisioningSetup["plugin"];
let heldHost: ProvisioningSetup["heldHost"];

beforeAll(async () => {
  setup = await startProvisioningSetup(t.db, { name: "prov", macByte: 0xd0 });
  ({ admin, holder, outsider, server, plugin, heldHost } = setup);
});
afterAll(async () => {
  await setup?.close();
  await stopJobSender();
  await fs.rm(dataDir, { recursive: true, force: true });
});

const stepStates = async (id: string) => (await getDeployment(t.db, holder, id)).steps.map((s) => `${s.name}:${s.state}`);
const inFuture = (seconds: number) => new Date(Date.now() + seconds * 1000);
/** Every run of a host, whoever started it (release wipes included). */
const runsOfHost = async (hostId: string) => (await listDeploymentRows(t.db, { hostId, limit: 1000, offset: 0 })).rows.map((r) => r.deployment);

describe("starting a run", () => {
  it("refuses, before anything is powered: a host not held, an unreadable image, a busy host, a template that does not render", async () => {
    const before = (await plugin.actions()).length;
    const { hostId } = await heldHost();
    // Not the holder: the host does not exist for them.
    await expectAppError(startDeployment(t.db, outsider, hostId, { action: "wipe_disk" }), "not_found", "That host does not exist.");
    // Someone else's private image.
    const theirs = await seedReadyImage(t.db, { ownerUserId: outsider.user!.id });
    const e = await expectAppError(startDeployment(t.db, holder, hostId, { action: "deploy_image", imageId: theirs.image.id }), "validation", "That image does not exist, or you may not use it.");
    expect(e.details?.fieldErrors?.imageId).toBeDefined();
    await expectAppError(startDeployment(t.db, holder, hostId, { action: "deploy_image" }), "validation", "Choose the image to deploy.");
    // A template that does not render for this host, with its line and column.
    const broken = await createTemplate(t.db, holder, { name: "broken", kind: "system", format: "ipxe", source: "#!ipxe\necho {{ host.name | nosuchfilter }}\n" });
    await expectAppError(startDeployment(t.db, holder, hostId, { action: "install", systemTemplateId: broken.id }), "validation", /“broken” v1 does not render for prov-\d+: .*line 2, column \d+.*Nothing was started/);
    // An undefined attribute (a 400, not a 500, and not an empty "mac="): where, and the name meant.
    const typo = await createTemplate(t.db, holder, { name: "typo", kind: "system", format: "ipxe", source: "#!ipxe\nkernel x mac={{ host.mac }}\n" });
    const undefinedErr = await expectAppError(startDeployment(t.db, holder, hostId, { action: "install", systemTemplateId: typo.id }), "validation", /“typo” v1 does not render for prov-\d+: host\.mac is undefined — did you mean host\.interface\.mac or host\.macs\? \(line 2, column 22\)\. Nothing was started/);
    expect(undefinedErr.status).toBe(400);
    // Another run active on the host.
    const first = await startDeployment(t.db, holder, hostId, { action: "wipe_disk" });
    await expectAppError(startDeployment(t.db, holder, hostId, { action: "wipe_disk" }), "conflict", new RegExp(`busy: wipe the disks \\(deployment ${first.id}\\) is running`));
    // Nothing was powered by any refusal (the one run's power job never ran: no worker here).
    expect((await plugin.actions()).length).toBe(before);
    expect((await listDeployments(t.db, holder, hostId)).data).toHaveLength(1);
  });

  it("pins what it will use and starts with the power step", async () => {
    const { hostId } = await heldHost();
    const img = await seedReadyImage(t.db, { ownerUserId: holder.user!.id });
    const run = await startDeployment(t.db, holder, hostId, { action: "deploy_image", imageId: img.image.id, disk: "vda", vars: { console: "ttyS1" }, notify: true });
    expect(run).toMatchObject({ action: "deploy_image", state: "running", origin: "holder", image: { id: img.image.id, version: 1 }, options: { disk: "vda", notify: true }, vars: { console: "ttyS1" } });
    expect(run.systemTemplate).toMatchObject({ name: "Deploy image", version: 1 });
    expect(run.steps.map((s) => `${s.name}:${s.state}`)).toEqual(["power_on:running", "boot:pending", "agent:pending", "write:pending", "verify:pending"]);
    expect(run.steps[0]!.timeoutAt).not.toBeNull();
  });
});

describe("a deploy_image run, the machine played over HTTP", () => {
  it("powers on from the network, boots, runs the agent, writes with progress, verifies, and is done", async () => {
    const { hostId, machine } = await heldHost();
    const img = await seedReadyImage(t.db, { ownerUserId: holder.user!.id });
    const run = await startDeployment(t.db, holder, hostId, { action: "deploy_image", imageId: img.image.id });
    expect(await runWorkerSteps(t.db, run.id, "deploy_image", { backoffMs: [] })).toEqual({ ran: ["power_on"], state: "running" });
    expect((await plugin.actions()).at(-1)).toBe("cycle");
    expect(await stepStates(run.id)).toEqual(["power_on:done", "boot:running", "agent:pending", "write:pending", "verify:pending"]);

    const script = await machine.boot();
    expect(script).toContain("kiln.action=deploy");
    expect(await stepStates(run.id)).toEqual(["power_on:done", "boot:done", "agent:running", "write:pending", "verify:pending"]);

    const params = await machine.instructions();
    expect(params).toMatchObject({ deploymentId: run.id, action: "deploy_image", image: { sha256: img.sha256, sizeBytes: img.bytes.length, format: "raw" } });
    // The instructions' image URL opens exactly this version for this run's token.
    expect(await machine.download(params.image.url)).toMatchObject({ status: 200, sha256: img.sha256 });
    expect((await machine.inventory({ cpuCores: 16, memoryMb: 65536, disks: [{ name: "vda", sizeBytes: 1e11, serial: "QM0001" }], nics: [{ mac: machine.mac, name: "eth0", speedMbps: 1000 }], facts: { vendor: "QEMU" } })).status).toBe(200);
    const host = (await getHostRow(t.db, hostId))!;
    expect(host).toMatchObject({ cpuCores: 16, memoryMb: 65536, disks: [{ name: "vda", sizeBytes: 1e11, serial: "QM0001" }] });
    expect(host.facts).toMatchObject({ vendor: "QEMU", nics: [{ mac: machine.mac, name: "eth0", speedMbps: 1000 }] });

    expect((await machine.progress({ bytes: 65536, totalBytes: img.bytes.length, rate: 1_000_000 })).status).toBe(200);
    // The dashboard's lease cards carry the run in a few words.
    const [card] = (await listLeases(t.db, holder, { scope: "mine", per_page: 100 })).data.filter((l) => l.hosts.some((h) => h.id === hostId));
    expect(card!.hosts[0]!.run).toMatchObject({ deploymentId: run.id, provisioning: "deploying", step: "Write the image", percent: 25, rate: 1_000_000, etaSeconds: Math.round((img.bytes.length - 65536) / 1_000_000) });
    expect((await machine.log(["dd: 65536 bytes"])).status).toBe(200);
    let view = await getDeployment(t.db, holder, run.id);
    expect(view.progress).toMatchObject({ bytesWritten: 65536, totalBytes: img.bytes.length, rateBytesPerSecond: 1_000_000 });
    expect(view.progress.etaSeconds).toBe(0);
    expect(view.steps.map((s) => `${s.name}:${s.state}`)).toEqual(["power_on:done", "boot:done", "agent:done", "write:running", "verify:pending"]);
    await machine.progress({ bytes: img.bytes.length, totalBytes: img.bytes.length, phase: "verify" });
    expect(await stepStates(run.id)).toEqual(["power_on:done", "boot:done", "agent:done", "write:done", "verify:running"]);

    expect((await machine.done({ sha256: img.sha256, bytes: img.bytes.length })).status).toBe(200);
    view = await getDeployment(t.db, holder, run.id);
    expect(view.state).toBe("done");
    expect(view.provisioning).toBe("deployed");
    expect(view.steps.every((s) => s.state === "done")).toBe(true);
    expect(view.logs.map((l) => `${l.source}: ${l.line}`)).toEqual(
      expect.arrayContaining(["power: plugin: pdu: cycle done", "kiln: the machine network-booted and got its boot script", "kiln: the deploy agent started and fetched its instructions", "agent: dd: 65536 bytes", `agent: done: ${img.bytes.length} bytes, sha256 ${img.sha256}`]),
    );

    // Idempotent, and closed: a repeated done changes nothing, anything else is refused.
    expect(await machine.done()).toMatchObject({ status: 200, text: "already recorded\n" });
    expect((await machine.progress({ bytes: 1 })).status).toBe(409);
    expect((await machine.failed("late")).status).toBe(409);
    expect((await machine.file("agent.json")).status).toBe(409);
    // The token no longer opens the image, and the next boot is local.
    expect((await machine.download(params.image.url)).status).toBe(404);
    expect(await machine.boot()).toContain("boots from its local disk");
    // No mail was asked for (notify is off by default).
    expect((await getDeployment(t.db, holder, run.id)).options).toEqual({});
    expect(await listOutboxMailTo(t.db, holder.user!.email)).toEqual([]);
  });

  it("mails the holder at the end when they asked for it, with the reason of a failure and the host's link", async () => {
    const { hostId, name, machine } = await heldHost();
    const run = await startDeployment(t.db, holder, hostId, { action: "wipe_disk", notify: true });
    await machine.boot();
    await machine.instructions();
    await machine.failed("disk /dev/sdz not found");
    const mails = await listOutboxMailTo(t.db, holder.user!.email);
    expect(mails.map((m) => m.subject)).toEqual([`${name}: wipe the disks failed`]);
    expect(mails[0]!.text).toContain("Wipe the disks: disk /dev/sdz not found");
    expect(mails[0]!.text).toContain(`http://kiln.test/hosts/${hostId}`);
    expect((await getDeployment(t.db, holder, run.id)).options).toEqual({ notify: true, wipeMode: "quick" });
  });

  it("fails with the agent's reason (checksum mismatch, missing disk) and leaves the host failed, never deployed", async () => {
    for (const reason of ["checksum mismatch: expected ab12…, got 9f00…", "disk /dev/sdz not found"]) {
      const { hostId, machine } = await heldHost();
      const img = await seedReadyImage(t.db, { ownerUserId: holder.user!.id });
      const run = await startDeployment(t.db, holder, hostId, { action: "deploy_image", imageId: img.image.id });
      await machine.boot();
      await machine.instructions();
      expect((await machine.failed(reason)).status).toBe(200);
      const view = await getDeployment(t.db, holder, run.id);
      expect(view).toMatchObject({ state: "failed", provisioning: "failed", failureReason: `Write the image: ${reason}`, canRetry: true, canCancel: false });
      expect(view.steps.find((s) => s.name === "write")).toMatchObject({ state: "failed", failureReason: reason });
      expect(view.steps.find((s) => s.name === "verify")!.state).toBe("skipped");
      expect(await machine.failed(reason)).toMatchObject({ status: 200, text: "already recorded\n" });
    }
  });

  it("refuses reports with a bad token or from another host's MAC (404), and bad bodies (400)", async () => {
    const a = await heldHost();
    const b = await heldHost();
    const run = await startDeployment(t.db, holder, a.hostId, { action: "wipe_disk" });
    await a.machine.boot();
    const foreign = new FakeMachine(server, b.mac);
    foreign.token = a.machine.token;
    expect((await foreign.progress({ bytes: 1 })).status).toBe(404);
    expect((await foreign.file("agent.json")).status).toBe(404);
    const forged = new FakeMachine(server, a.mac);
    forged.token = "x".repeat(43);
    expect((await forged.done()).status).toBe(404);
    expect((await forged.file("agent")).status).toBe(404);
    expect((await a.machine.progress({ bytes: -1 })).status).toBe(400);
    expect((await a.machine.file("inventory", "POST", { disks: [{ name: "" }] })).status).toBe(400);
    expect((await a.machine.file("nonsense", "POST", {})).status).toBe(404);
    // The agent script and its shell instructions are served to the right machine.
    const script = await a.machine.file("agent");
    expect(script.status).toBe(200);
    expect(script.text).toMatch(/^#!\/bin\/sh/);
    const env = await a.machine.file("agent.env");
    expect(env.text).toContain(`KILN_DEPLOYMENT_ID='${run.id}'`);
    expect(env.text).toContain("KILN_ACTION='wipe_disk'");
    expect(env.text).toContain(`KILN_REPORT_DONE='${server.url}/boot/${a.mac.replace(/:/g, "-")}/${a.machine.token}/done'`);
  });
});

describe("a capture_disk run", () => {
  it("only the image's owner may capture into it, and the run's steps end with the capture (the upload itself: capture.int.test.ts)", async () => {
    const { hostId } = await heldHost();
    const img = await seedReadyImage(t.db, { ownerUserId: holder.user!.id });
    await expectAppError(startDeployment(t.db, holder, hostId, { action: "capture_disk", imageId: (await seedReadyImage(t.db, { ownerUserId: outsider.user!.id, visibility: "public" })).image.id }), "validation", /Only the owner/);
    const run = await startDeployment(t.db, holder, hostId, { action: "capture_disk", imageId: img.image.id });
    expect(run.steps.map((s) => s.name)).toEqual(["power_on", "boot", "agent", "capture"]);
  });
});

describe("deadlines: each step fails with its own reason", () => {
  it("boot, agent, write (no progress) and install, on a controlled clock; progress moves the write deadline", async () => {
    // boot: the machine never asks.
    let h = await heldHost();
    let run = await startDeployment(t.db, holder, h.hostId, { action: "deploy_image", imageId: (await seedReadyImage(t.db, { ownerUserId: holder.user!.id })).image.id });
    await runWorkerSteps(t.db, run.id, "deploy_image");
    expect((await checkDeadlines(t.db, { now: inFuture(299) })).failed).not.toContain(run.id);
    expect((await checkDeadlines(t.db, { now: inFuture(301) })).failed).toContain(run.id);
    expect((await getDeployment(t.db, holder, run.id)).failureReason).toBe("Network boot: no boot request from the machine within 5 minutes — check PXE/DHCP (does DHCP point the machine at Kiln's chain script?) and the boot order");

    // agent: the ramdisk boots but its agent never calls.
    h = await heldHost();
    run = await startDeployment(t.db, holder, h.hostId, { action: "wipe_disk" });
    await h.machine.boot();
    await checkDeadlines(t.db, { now: inFuture(301) });
    expect((await getDeployment(t.db, holder, run.id)).failureReason).toMatch(/^Deploy agent starts: the machine booted the ramdisk but its agent did not ask for instructions within 5 minutes/);

    // write: progress keeps it alive; silence for 10 minutes fails it.
    h = await heldHost();
    run = await startDeployment(t.db, holder, h.hostId, { action: "wipe_disk" });
    await h.machine.boot();
    await h.machine.instructions();
    await checkDeadlines(t.db, { now: inFuture(590) });
    await h.machine.progress({ bytes: 10, totalBytes: 100 });
    // 590 s + 590 s after the start: past the first deadline, but the report moved it.
    expect((await checkDeadlines(t.db, { now: inFuture(590) })).failed).not.toContain(run.id);
    expect((await checkDeadlines(t.db, { now: inFuture(601) })).failed).toContain(run.id);
    expect((await getDeployment(t.db, holder, run.id)).failureReason).toBe("Wipe the disks: no progress from the agent for 10 minutes while wiping the disks");

    // install: the installer never reports done.
    h = await heldHost();
    const sys = (await getTemplateByBuiltinKey(t.db, "debian-12-netinstall"))!;
    run = await startDeployment(t.db, holder, h.hostId, { action: "install", systemTemplateId: sys.id });
    await h.machine.boot();
    await checkDeadlines(t.db, { now: inFuture(3601) });
    expect((await getDeployment(t.db, holder, run.id)).failureReason).toMatch(/^Unattended install: the installer did not report done within 1 hour/);
  });

  it("a power driver that keeps failing fails the power step after three attempts, with the driver's reason", async () => {
    const h = await heldHost();
    await plugin.failWith("PDU unreachable");
    try {
      const run = await startDeployment(t.db, holder, h.hostId, { action: "wipe_disk" });
      expect(await runWorkerSteps(t.db, run.id, "wipe_disk", { backoffMs: [10, 10] })).toEqual({ ran: ["power_on failed"], state: "failed" });
      const view = await getDeployment(t.db, holder, run.id);
      expect(view.failureReason).toBe(`Power on from the network: could not power on the machine (plugin): The power plugin failed to cycle ${h.name}: PDU unreachable`);
      expect(view.logs.filter((l) => l.line.includes("attempt")).map((l) => l.line.replace(/: The power plugin.*/, ""))).toEqual(["power on attempt 1 of 3 failed", "power on attempt 2 of 3 failed", "power on attempt 3 of 3 failed"]);
    } finally {
      await plugin.failWith(null);
    }
  });
});

describe("cancel, retry, and the mark", () => {
  it("cancel ends the run and queues the power-off; retry repeats it with the same pinned versions", async () => {
    const h = await heldHost();
    const run = await startDeployment(t.db, holder, h.hostId, { action: "wipe_disk", disk: "sdb" });
    await h.machine.boot();
    const cancelled = await cancelDeployment(t.db, holder, run.id);
    expect(cancelled).toMatchObject({ state: "cancelled", failureReason: `cancelled by ${holder.user!.email}`, canRetry: true });
    expect(cancelled.steps.map((s) => s.state)).toEqual(["done", "done", "cancelled", "skipped", "skipped"]);
    await expectAppError(cancelDeployment(t.db, holder, run.id), "conflict", /already ended/);
    expect((await h.machine.progress({ bytes: 1 })).status).toBe(409);
    await expectAppError(cancelDeployment(t.db, outsider, run.id), "not_found");

    const again = await retryDeployment(t.db, holder, run.id);
    expect(again).toMatchObject({ action: "wipe_disk", retryOfId: run.id, options: { disk: "sdb" }, systemTemplate: cancelled.systemTemplate, state: "running" });
    await expectAppError(retryDeployment(t.db, holder, again.id), "conflict", /only a failed or cancelled run/);
  });

  it("a mark waits for the machine without powering it, and reaches done through the installer's callback", async () => {
    const h = await heldHost({ driver: "manual" });
    const sys = (await getTemplateByBuiltinKey(t.db, "debian-12-netinstall"))!;
    const un = (await getTemplateByBuiltinKey(t.db, "debian-12-preseed"))!;
    await updateBootSettings(t.db, holder, h.hostId, { systemTemplateId: sys.id, unattendedTemplateId: un.id });
    const { deploymentId } = await markForReinstall(t.db, holder, h.hostId);
    let view = await getDeployment(t.db, holder, deploymentId);
    expect(view).toMatchObject({ state: "pending", options: { power: false } });
    expect(view.steps.map((s) => `${s.name}:${s.state}:${s.timeoutAt}`)).toEqual(["boot:running:null", "install:pending:null"]);
    // Hours later, nobody has rebooted it yet: still waiting, no deadline.
    expect((await checkDeadlines(t.db, { now: inFuture(5 * 3600) })).failed).not.toContain(deploymentId);
    await h.machine.boot();
    expect((await h.machine.file("unattended")).status).toBe(200);
    expect((await h.machine.request("POST", `/boot/${h.mac.replace(/:/g, "-")}/${h.machine.token}/done`)).status).toBe(200);
    view = await getDeployment(t.db, holder, deploymentId);
    expect(view.state).toBe("done");
    expect(view.logs.map((l) => l.line)).toContain("the installer fetched unattended");
  });
});

describe("the end of a lease", () => {
  it("wipes a host Kiln can power, switches it off, and only then makes it available", async () => {
    const h = await heldHost();
    const mine = await startDeployment(t.db, holder, h.hostId, { action: "wipe_disk" });
    await releaseLease(t.db, holder, h.leaseId!);
    // The holder's run is cancelled; a release wipe takes over; the host waits in releasing.
    expect(await getDeploymentRow(t.db, mine.id)).toMatchObject({ state: "cancelled", failureReason: "the lease ended" });
    const release = (await runsOfHost(h.hostId)).find((d) => d.origin === "release")!;
    expect(release).toMatchObject({ action: "wipe_disk", state: "running", userId: null });
    expect((await getHostRow(t.db, h.hostId))!.state).toBe("releasing");
    // The former holder sees none of it.
    await expectAppError(getDeployment(t.db, holder, release.id), "not_found");

    await runWorkerSteps(t.db, release.id, "wipe_disk");
    await h.machine.boot();
    await h.machine.instructions();
    await h.machine.progress({ bytes: 100, totalBytes: 100, phase: "wipe" });
    await h.machine.done();
    // The agent is done; the power-off is the worker's.
    expect((await getDeployment(t.db, admin, release.id)).steps.map((s) => `${s.name}:${s.state}`)).toEqual(["power_on:done", "boot:done", "agent:done", "wipe:done", "power_off:running"]);
    expect((await getHostRow(t.db, h.hostId))!.state).toBe("releasing");
    expect(await runWorkerSteps(t.db, release.id, "wipe_disk")).toEqual({ ran: ["power_off"], state: "done" });
    expect((await plugin.actions()).at(-1)).toBe("off");
    expect((await getHostRow(t.db, h.hostId))!.state).toBe("available");
  });

  it("a failed wipe sends the host to maintenance; a manual host goes straight back", async () => {
    const h = await heldHost();
    await releaseLease(t.db, holder, h.leaseId!);
    const release = (await runsOfHost(h.hostId))[0]!;
    await h.machine.boot();
    await h.machine.instructions();
    await h.machine.failed("disk /dev/sda not found");
    const row = await getHostRow(t.db, h.hostId);
    expect(row!.state).toBe("maintenance");
    expect((await getDeployment(t.db, admin, release.id)).failureReason).toBe("Wipe the disks: disk /dev/sda not found");

    const m = await heldHost({ driver: "manual" });
    await releaseLease(t.db, holder, m.leaseId!);
    expect((await getHostRow(t.db, m.hostId))!.state).toBe("available");
    expect(await runsOfHost(m.hostId)).toEqual([]);
  });
});
