// The provisioning jobs in a real worker (pg-boss against this file's PostgreSQL), with the
// machine played by the test over HTTP: each job's happy path (deploy-image, install-os,
// capture-disk, wipe-disk, power), a deadline enforced by the
// delayed watchdog job, cancel and release powering off, and a worker killed with SIGKILL
// in the middle of a power step whose job is retried by the next worker.
import { FakeMachine, recordingPowerPlugin, seedReadyImage, startBootServer, waitFor } from "@/test/harness/provisioning";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getTemplateByBuiltinKey } from "@/db/queries/templates";
import { listDeploymentRows } from "@/db/queries/deployments";
import { getHostRow } from "@/db/queries/hosts";
import { actorOf, type Actor } from "@/lib/access/actor";
import { cancelDeployment } from "@/lib/deployments/commands";
import { getDeployment } from "@/lib/deployments/views";
import { startDeployment } from "@/lib/deployments/start";
import { createHost } from "@/lib/hosts/hosts";
import { stopJobSender } from "@/lib/jobs/enqueue";
import { createLease, releaseLease } from "@/lib/leases/leases";
import { addProjectMember, createProject } from "@/lib/projects/projects";
import { syncBuiltinTemplates } from "@/lib/templates/templates";
import { useTestDb } from "@/test/harness/database";
import { setTestEnv, setTestEnvDefaults } from "@/test/harness/env";
import { createActiveUser } from "@/test/harness/fixtures";
import type { RouteServer } from "@/test/harness/http-server";
import { startWorker } from "./worker";
import { getProcessEnv } from "@/lib/env";

const t = await useTestDb();
const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-jobs-"));
setTestEnvDefaults({ KILN_DATA_DIR: dataDir });

let admin: Actor;
let holder: Actor;
let projectId: string;
let server: RouteServer;
let plugin: Awaited<ReturnType<typeof recordingPowerPlugin>>;
let worker: { stop: () => Promise<void> } | null = null;
let n = 0;

beforeAll(async () => {
  admin = actorOf((await createActiveUser(t.db, { admin: true })).user, null);
  holder = actorOf((await createActiveUser(t.db)).user, null);
  projectId = (await createProject(t.db, admin, { name: "jobs" })).id;
  await addProjectMember(t.db, admin, projectId, { userId: holder.user!.id });
  await syncBuiltinTemplates(t.db);
  server = await startBootServer();
  plugin = await recordingPowerPlugin();
  setTestEnvDefaults({ KILN_BOOT_URL: server.url });
  worker = await startWorker(t.url, { superviseIntervalSeconds: 1, pollingIntervalSeconds: 0.5 });
});
afterAll(async () => {
  await worker?.stop();
  await stopJobSender();
  await server?.close();
  await plugin?.cleanup();
  await fs.rm(dataDir, { recursive: true, force: true });
});

async function heldHost() {
  const mac = `52:54:00:e0:00:${(++n).toString(16).padStart(2, "0")}`;
  const h = await createHost(t.db, admin, { name: `job-${n}`, interfaces: [{ mac }], power: { driver: "plugin", params: { command: plugin.command } } });
  const lease = await createLease(t.db, admin, { hostIds: [h.id], userId: holder.user!.id, projectId });
  return { hostId: h.id, leaseId: lease.id, machine: new FakeMachine(server, mac) };
}

const run = (id: string) => getDeployment(t.db, admin, id);
const stepOf = (name: string) => (d: Awaited<ReturnType<typeof run>>) => d.steps.find((s) => s.name === name)?.state === "running";
const hostState = async (id: string) => (await getHostRow(t.db, id))!.state;
/** Every run of a host, whoever started it (release wipes included). */
const runsOfHost = async (hostId: string) => (await listDeploymentRows(t.db, { hostId, limit: 1000, offset: 0 })).rows.map((r) => r.deployment);

describe("provisioning jobs in the worker", () => {
  it("deploy-image: the job powers the machine on from the network; the agent's reports take it to done", async () => {
    const { hostId, machine } = await heldHost();
    const img = await seedReadyImage(t.db, { ownerUserId: holder.user!.id });
    const started = await startDeployment(t.db, holder, hostId, { action: "deploy_image", imageId: img.image.id });
    await waitFor("the power step done by the deploy-image job", () => run(started.id), stepOf("boot"));
    expect(await plugin.actions()).toContain("cycle");
    await machine.boot();
    const params = await machine.instructions();
    expect((await machine.download(params.image.url)).sha256).toBe(img.sha256);
    await machine.progress({ bytes: img.bytes.length / 2, totalBytes: img.bytes.length });
    await machine.progress({ bytes: img.bytes.length, totalBytes: img.bytes.length, phase: "verify" });
    await machine.done({ sha256: img.sha256, bytes: img.bytes.length });
    expect(await run(started.id)).toMatchObject({ state: "done", provisioning: "deployed", progress: { bytesWritten: img.bytes.length } });
    expect(await hostState(hostId)).toBe("leased");
  });

  it("install-os: boot script, the installer's answers, the installer's done", async () => {
    const { hostId, machine } = await heldHost();
    const sys = (await getTemplateByBuiltinKey(t.db, "debian-12-netinstall"))!;
    const un = (await getTemplateByBuiltinKey(t.db, "debian-12-preseed"))!;
    const started = await startDeployment(t.db, holder, hostId, { action: "install", systemTemplateId: sys.id, unattendedTemplateId: un.id, vars: { disk: "vda" } });
    await waitFor("the install-os job's power step", () => run(started.id), stepOf("boot"));
    expect(await machine.boot()).toContain("preseed/url=");
    const preseed = await machine.file("unattended");
    expect(preseed.text).toContain("d-i partman-auto/disk string /dev/vda");
    expect((await machine.request("POST", `/boot/${machine.mac.replace(/:/g, "-")}/${machine.token}/done`)).status).toBe(200);
    expect((await run(started.id)).steps.map((s) => `${s.name}:${s.state}`)).toEqual(["power_on:done", "boot:done", "install:done"]);
  });

  it("capture-disk: the job powers the machine on; the disk the agent uploads becomes, once the worker verified it, the image's next version", async () => {
    const { hostId, machine } = await heldHost();
    const img = await seedReadyImage(t.db, { ownerUserId: holder.user!.id });
    const started = await startDeployment(t.db, holder, hostId, { action: "capture_disk", imageId: img.image.id });
    await waitFor("the capture-disk job's power step", () => run(started.id), stepOf("boot"));
    await machine.boot();
    await machine.instructions();
    const disk = randomBytes(256 * 1024);
    const sent = await machine.capture(disk);
    // 202 while the worker's verify-image-version job runs, then 200.
    const answer = await waitFor("the verified capture", () => machine.done({ sha256: sent.sha256, bytes: sent.bytes }), (r) => r.status !== 202);
    expect(answer.status).toBe(200);
    expect(answer.json()).toMatchObject({ version: 2, bytes: disk.length, sha256: sent.sha256 });
    expect(await run(started.id)).toMatchObject({ state: "done", provisioning: "captured", image: { id: img.image.id, version: 2 } });
  });

  it("wipe-disk at a lease's end: wiped, switched off by the job, and only then available", async () => {
    const { hostId, leaseId, machine } = await heldHost();
    await releaseLease(t.db, holder, leaseId);
    const [wipe] = await runsOfHost(hostId);
    await waitFor("the wipe-disk job's power step", () => run(wipe!.id), stepOf("boot"));
    await machine.boot();
    await machine.instructions();
    await machine.progress({ bytes: 1e9, totalBytes: 1e9, phase: "wipe" });
    await machine.done();
    await waitFor("the host back in its pool", () => hostState(hostId), (s) => s === "available");
    expect((await run(wipe!.id)).steps.map((s) => `${s.name}:${s.state}`)).toEqual(["power_on:done", "boot:done", "agent:done", "wipe:done", "power_off:done"]);
    expect((await plugin.actions()).at(-1)).toBe("off");
  });

  it("cancel: the power job switches the machine off, and the run's log says so", async () => {
    const { hostId } = await heldHost();
    const started = await startDeployment(t.db, holder, hostId, { action: "wipe_disk" });
    await waitFor("the power step", () => run(started.id), stepOf("boot"));
    await cancelDeployment(t.db, holder, started.id);
    const view = await waitFor("the power-off in the log", () => run(started.id), (d) => d.logs.some((l) => l.line.startsWith("power off (run cancelled)")));
    expect(view.state).toBe("cancelled");
    expect((await plugin.actions()).at(-1)).toBe("off");
  });

  it("a silent machine fails at its step's deadline, through the delayed watchdog job", async () => {
    setTestEnv({ KILN_STEP_TIMEOUTS: "boot=2" });
    const { hostId } = await heldHost();
    const started = await startDeployment(t.db, holder, hostId, { action: "wipe_disk" });
    const failed = await waitFor("the boot deadline", () => run(started.id), (d) => d.state === "failed", 20_000);
    expect(failed.failureReason).toBe("Network boot: no boot request from the machine within 2 seconds — check PXE/DHCP (does DHCP point the machine at Kiln's chain script?) and the boot order");
    expect(failed.provisioning).toBe("failed");
  });
});

describe("a worker killed in the middle of a job", () => {
  it("SIGKILL during the power step: the job is retried by the next worker, the run goes on, one run, host consistent", async () => {
    await worker!.stop();
    worker = null;
    const { hostId, machine } = await heldHost();
    await plugin.sleep(3);
    const child = spawn(process.execPath, ["--import", "tsx", "workers/index.ts"], {
      cwd: path.resolve(__dirname, ".."),
      env: { ...getProcessEnv(), DATABASE_URL: t.url, LOG_LEVEL: "silent" },
      stdio: "ignore",
    });
    try {
      const started = await startDeployment(t.db, holder, hostId, { action: "wipe_disk" });
      const begunBefore = (await plugin.begun()).length;
      await waitFor("the child worker inside the power plugin", () => plugin.begun(), (b) => b.length > begunBefore, 30_000);
      child.kill("SIGKILL");
      await new Promise((r) => child.once("exit", r));
      expect((await run(started.id)).steps[0]).toMatchObject({ name: "power_on", state: "running" });

      await plugin.sleep(0);
      worker = await startWorker(t.url, { superviseIntervalSeconds: 1, pollingIntervalSeconds: 0.5 });
      // pg-boss notices the dead worker by its missing heartbeat (10 s) and retries the job.
      await waitFor("the retried power step", () => run(started.id), stepOf("boot"), 40_000);
      await machine.boot();
      await machine.instructions();
      await machine.done();
      const done = await waitFor("the run's end", () => run(started.id), (d) => d.state === "done");
      expect(done.steps.map((s) => s.state)).toEqual(["done", "done", "done", "done", "done"]);
      expect(await runsOfHost(hostId)).toHaveLength(1);
      expect(await hostState(hostId)).toBe("leased");
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      await plugin.sleep(0);
    }
  }, 90_000);
});
