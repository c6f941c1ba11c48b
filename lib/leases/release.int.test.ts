// The end of a lease on a Wake-on-LAN host, with the real WoL driver (its magic packet caught
// by a UDP listener on 127.0.0.1) and the machine played over HTTP: Kiln wakes the machine
// for the wipe but does not try to switch it off — Wake-on-LAN cannot — so the run has no
// power-off step, the agent is told to switch the machine off itself, and the host goes back
// to its pool after every lease instead of to maintenance. The real agent script writes that
// request for the ramdisk's init after a successful wipe.
import { startProvisioningSetup, FakeMachine, waitFor, type ProvisioningSetup } from "@/test/harness/provisioning";
import { startWorker } from "@/workers/worker";
import { execFile } from "node:child_process";
import dgram from "node:dgram";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { readAgentScript } from "@/boot/agent/agent-script";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDeploymentRow, listDeploymentRows } from "@/db/queries/deployments";
import { getHostRow } from "@/db/queries/hosts";
import { cancelDeployment } from "@/lib/deployments/commands";
import { getDeployment } from "@/lib/deployments/views";
import { startDeployment } from "@/lib/deployments/start";
import { checkDeadlines, runWorkerSteps } from "@/lib/deployments/worker";
import { getHostDetail, listHosts } from "@/lib/hosts/hosts";
import { releaseAdvice, releaseWaitMessage } from "../hosts/release-wait";
import { wakeWaitingReleases } from "./release";
import { getProcessEnv } from "@/lib/env";
import { listQueuedJobs } from "@/db/queries/testing";
import { createHost } from "@/lib/hosts/hosts";
import { stopJobSender } from "@/lib/jobs/enqueue";
import { canPowerOff } from "@/lib/power/drivers";
import { magicPacket } from "@/lib/power/wol";
import { useTestDb } from "@/test/harness/database";
import { setTestEnv, setTestEnvDefaults } from "@/test/harness/env";
import { expectAppError } from "@/test/harness/fixtures";
import { createLease, getLease, releaseLease } from "./leases";

const t = await useTestDb();
const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-release-"));
setTestEnvDefaults({ KILN_DATA_DIR: path.join(tmp, "data") });
// The agent as the ramdisk gets it: its parts joined (boot/agent/agent-script.ts).
const AGENT = path.join(tmp, "kiln-agent.sh");
await fs.writeFile(AGENT, await readAgentScript());

let setup: ProvisioningSetup;
let listener: dgram.Socket;
let wolPort: number;
const packets: Buffer[] = [];

beforeAll(async () => {
  setup = await startProvisioningSetup(t.db, { name: "wol-release", macByte: 0xe1 });
  listener = dgram.createSocket("udp4");
  listener.on("message", (m) => packets.push(m));
  await new Promise<void>((r) => listener.bind(0, "127.0.0.1", () => r()));
  wolPort = listener.address().port;
});
afterAll(async () => {
  listener?.close();
  await setup?.close();
  await stopJobSender();
  await fs.rm(tmp, { recursive: true, force: true });
});

const runsOf = async (hostId: string) => (await listDeploymentRows(t.db, { hostId, limit: 1000, offset: 0 })).rows.map((r) => r.deployment);

let n = 0;
async function wolHost() {
  const mac = `52:54:00:e2:00:${(++n).toString(16).padStart(2, "0")}`;
  const host = await createHost(t.db, setup.admin, { name: `wol-${n}`, interfaces: [{ mac }], power: { driver: "wol", params: { broadcast: "127.0.0.1", port: wolPort } } });
  return { id: host.id, mac, machine: new FakeMachine(setup.server, mac) };
}

async function packetFor(mac: string): Promise<void> {
  for (let i = 0; i < 80 && !packets.some((p) => p.equals(magicPacket(mac))); i++) await new Promise((r) => setTimeout(r, 25));
  expect(packets.some((p) => p.equals(magicPacket(mac)))).toBe(true);
}

describe("drivers that cannot switch a machine off", () => {
  it("are known: Wake-on-LAN and manual cannot, IPMI, QEMU and plugins can", () => {
    expect(["wol", "manual", "ipmi", "qemu", "plugin", "nonsense"].map((d) => `${d}:${canPowerOff(d)}`)).toEqual(["wol:false", "manual:false", "ipmi:true", "qemu:true", "plugin:true", "nonsense:false"]);
  });
});

describe("the end of a lease on a Wake-on-LAN host", () => {
  it("wakes it for the wipe, never asks WoL to switch it off, and puts it back in its pool after every lease", async () => {
    const h = await wolHost();
    for (let round = 1; round <= 2; round++) {
      const lease = await createLease(t.db, setup.admin, { hostIds: [h.id], userId: setup.holder.user!.id, projectId: setup.projectId });
      packets.length = 0;
      await releaseLease(t.db, setup.holder, lease.id);
      expect((await getHostRow(t.db, h.id))!.state).toBe("releasing");
      const release = (await runsOf(h.id)).find((d) => d.origin === "release" && d.state === "running")!;
      expect(release).toBeDefined();

      // Kiln's part: the power-on (a magic packet), and nothing after the wipe.
      expect(await runWorkerSteps(t.db, release.id, "wipe_disk")).toEqual({ ran: ["power_on"], state: "running" });
      await packetFor(h.mac);
      expect((await getDeployment(t.db, setup.admin, release.id)).steps.map((s) => s.name)).toEqual(["power_on", "boot", "agent", "wipe"]);

      // The machine's part: the agent is told to switch the machine off itself.
      await h.machine.boot();
      const env = await h.machine.file("agent.env");
      expect(env.text).toContain("KILN_ACTION='wipe_disk'");
      expect(env.text).toContain("KILN_THEN='poweroff'");
      await h.machine.progress({ bytes: 100, totalBytes: 100, phase: "wipe" });
      expect((await h.machine.done({ erased: [{ disk: "vda", sizeBytes: 100, method: "first and last 64 MiB zeroed" }] })).status).toBe(200);

      expect(await getDeploymentRow(t.db, release.id)).toMatchObject({ state: "done", failureReason: null });
      expect((await getHostRow(t.db, h.id))!.state).toBe("available");
      // Nothing left for the worker: no power-off was attempted.
      expect(await runWorkerSteps(t.db, release.id, "wipe_disk")).toEqual({ ran: [], state: "done" });
    }
  });

  it("a host Kiln can switch off keeps its power-off step, and its agent reboots as before", async () => {
    const { hostId, machine, leaseId } = await setup.heldHost();
    await releaseLease(t.db, setup.holder, leaseId!);
    const release = (await runsOf(hostId)).find((d) => d.origin === "release")!;
    expect((await getDeployment(t.db, setup.admin, release.id)).steps.map((s) => s.name)).toEqual(["power_on", "boot", "agent", "wipe", "power_off"]);
    await runWorkerSteps(t.db, release.id, "wipe_disk");
    await machine.boot();
    expect((await machine.file("agent.env")).text).toContain("KILN_THEN='reboot'");
  });

  it("the real agent, after a wipe Kiln cannot follow with a power-off, asks the ramdisk to power the machine off", async () => {
    const h = await wolHost();
    await createLease(t.db, setup.admin, { hostIds: [h.id], userId: setup.holder.user!.id, projectId: setup.projectId });
    const run = await startDeployment(t.db, setup.holder, h.id, { action: "wipe_disk", disk: "vda" });
    expect(await runWorkerSteps(t.db, run.id, "wipe_disk")).toEqual({ ran: ["power_on"], state: "running" });
    await h.machine.boot();
    const dev = await fs.mkdtemp(path.join(tmp, "dev-"));
    await fs.writeFile(path.join(dev, "vda"), Buffer.alloc(2 * 1024 * 1024, 0x5a));
    const thenFile = path.join(dev, "kiln-then");
    const code = await new Promise<number>((resolve) =>
      execFile(
        "sh",
        [AGENT],
        { env: { PATH: getProcessEnv().PATH, KILN_URL: setup.server.url, KILN_MAC: h.mac, KILN_TOKEN: h.machine.token!, KILN_DEV: dev, TMPDIR: dev, KILN_THEN_FILE: thenFile } as unknown as NodeJS.ProcessEnv, timeout: 30_000 },
        (err) => resolve(err ? ((err as { code?: number }).code ?? 1) : 0),
      ),
    );
    expect(code).toBe(0);
    expect((await fs.readFile(thenFile, "utf8")).trim()).toBe("poweroff");
    expect((await getDeployment(t.db, setup.holder, run.id)).state).toBe("done");
  });
});

// The common case: the holder deployed an OS and the machine runs it when the lease ends. The
// magic packet does nothing to a running machine, so it never network-boots on its own: the
// wipe must wait for a person (host still releasing, every view saying what to do), not time
// out after five minutes into maintenance with a message about PXE/DHCP.
describe("a Wake-on-LAN host left running at the lease's end", () => {
  const WAIT = "Kiln cannot restart this machine (Wake-on-LAN): restart it, or shut it down (Kiln wakes it again within 5 minutes), so it network-boots and its disk is wiped; it becomes available when the wipe is done.";
  const MINUTE = 60_000;

  it("stays releasing past the old boot deadline, says what to do everywhere, and is wiped and available once it network-boots", async () => {
    const h = await wolHost();
    const lease = await createLease(t.db, setup.admin, { hostIds: [h.id], userId: setup.holder.user!.id, projectId: setup.projectId });
    // Before the release, the holder's dialog advises a shutdown first.
    const before = (await getLease(t.db, setup.holder, lease.id)).hosts[0]!;
    expect(before.releaseAdvice).toBe(releaseAdvice({ powerDriver: "wol" }));
    expect(before.releaseAdvice).toMatch(/^Kiln cannot restart this machine \(Wake-on-LAN\)\. Shut it down before you release it/);

    const t0 = new Date();
    packets.length = 0;
    const released = await releaseLease(t.db, setup.holder, lease.id, { now: t0 });
    // The confirmation the holder sees carries the same words as the host page.
    expect(released.hosts[0]).toMatchObject({ state: "releasing", releaseWait: WAIT });
    expect(released.hosts[0]!.releaseAdvice).toBeUndefined();
    const release = (await runsOf(h.id)).find((d) => d.origin === "release" && d.state === "running")!;
    expect(await runWorkerSteps(t.db, release.id, "wipe_disk", { now: () => t0 })).toEqual({ ran: ["power_on"], state: "running" });
    await packetFor(h.mac);

    const boot = (await getDeployment(t.db, setup.admin, release.id)).steps.find((s) => s.name === "boot")!;
    expect(boot).toMatchObject({ state: "running", message: WAIT, timeoutSeconds: 168 * 3600 });
    // The old deadline (5 minutes), and a day later: nothing fails, the host stays releasing.
    for (const later of [6 * MINUTE, 24 * 60 * MINUTE]) {
      expect((await checkDeadlines(t.db, { now: new Date(t0.getTime() + later) })).failed).not.toContain(release.id);
      expect((await getHostRow(t.db, h.id))!.state).toBe("releasing");
    }
    expect((await getDeploymentRow(t.db, release.id))!.state).toBe("running");
    // Not leasable meanwhile: nobody gets the old disk.
    await expectAppError(createLease(t.db, setup.admin, { hostIds: [h.id], userId: setup.holder.user!.id, projectId: setup.projectId }), "conflict", /releasing, not available/);

    // The host page and the API host view (both getHostDetail), and the admin console's list.
    const detail = (await getHostDetail(t.db, setup.admin, h.id)).host;
    expect(detail.releaseWait).toMatchObject({ message: WAIT, deploymentId: release.id, leaseId: lease.id, since: t0.toISOString(), until: new Date(t0.getTime() + 168 * 3600_000).toISOString() });
    const listed = (await listHosts(t.db, setup.admin, { state: "releasing", per_page: 100 })).data.find((x) => x.id === h.id)!;
    expect(listed.releaseWait?.message).toBe(WAIT);
    expect((await getLease(t.db, setup.holder, lease.id)).hosts[0]!.releaseWait).toBe(WAIT);

    // Someone shut it down instead: the worker's next round wakes it again.
    packets.length = 0;
    expect(await wakeWaitingReleases(t.db)).toMatchObject({ woken: expect.any(Number), failed: 0 });
    await packetFor(h.mac);

    // Someone restarts it: it network-boots, the pending wipe runs, the host goes back to its pool.
    const script = await h.machine.boot();
    expect(script).toContain("kiln.action=wipe");
    expect((await h.machine.file("agent.env")).text).toContain("KILN_ACTION='wipe_disk'");
    await h.machine.progress({ bytes: 100, totalBytes: 100, phase: "wipe" });
    expect((await h.machine.done({ erased: [{ disk: "vda", sizeBytes: 100, method: "first and last 64 MiB zeroed" }] })).status).toBe(200);
    expect(await getDeploymentRow(t.db, release.id)).toMatchObject({ state: "done", failureReason: null });
    expect((await getHostRow(t.db, h.id))!.state).toBe("available");
    expect((await getHostDetail(t.db, setup.admin, h.id)).host.releaseWait).toBeNull();
  });

  it("goes to maintenance only after KILN_RELEASE_BOOT_WAIT_HOURS, saying that nobody restarted it — not PXE/DHCP", async () => {
    setTestEnv({ KILN_RELEASE_BOOT_WAIT_HOURS: "2" });
    try {
      const h = await wolHost();
      const lease = await createLease(t.db, setup.admin, { hostIds: [h.id], userId: setup.holder.user!.id, projectId: setup.projectId });
      const t0 = new Date();
      await releaseLease(t.db, setup.holder, lease.id, { now: t0 });
      const release = (await runsOf(h.id)).find((d) => d.origin === "release" && d.state === "running")!;
      await runWorkerSteps(t.db, release.id, "wipe_disk", { now: () => t0 });
      expect((await checkDeadlines(t.db, { now: new Date(t0.getTime() + 119 * MINUTE) })).failed).not.toContain(release.id);
      expect((await checkDeadlines(t.db, { now: new Date(t0.getTime() + 121 * MINUTE) })).failed).toContain(release.id);
      const failed = (await getDeploymentRow(t.db, release.id))!;
      expect(failed.failureReason).toBe(
        "Network boot: no boot request from the machine within 2 hours of the lease's end, and Kiln cannot restart it (Wake-on-LAN): it has to be restarted or shut down by someone so it network-boots (if it was, check that it boots from the network first); its disk was not wiped",
      );
      expect(failed.failureReason).not.toMatch(/PXE|DHCP/);
      expect((await getHostRow(t.db, h.id))!.state).toBe("maintenance");
      // A run's token outlives the wait, so a machine restarted on the last day still gets its wipe.
      expect(release.tokenExpiresAt.getTime() - t0.getTime()).toBeGreaterThanOrEqual((24 + 2) * 3600_000 - 1000);
    } finally {
      setTestEnv();
    }
  });

  it("a host Kiln can restart keeps the five-minute boot deadline and its PXE/DHCP reason", async () => {
    const { hostId, leaseId } = await setup.heldHost();
    const t0 = new Date();
    await releaseLease(t.db, setup.holder, leaseId!, { now: t0 });
    const release = (await runsOf(hostId)).find((d) => d.origin === "release" && d.state === "running")!;
    expect((await getHostDetail(t.db, setup.admin, hostId)).host.releaseWait).toBeNull();
    await runWorkerSteps(t.db, release.id, "wipe_disk", { now: () => t0 });
    const boot = (await getDeployment(t.db, setup.admin, release.id)).steps.find((s) => s.name === "boot")!;
    expect(boot).toMatchObject({ state: "running", message: null, timeoutSeconds: 300 });
    expect((await checkDeadlines(t.db, { now: new Date(t0.getTime() + 6 * MINUTE) })).failed).toContain(release.id);
    expect((await getDeploymentRow(t.db, release.id))!.failureReason).toMatch(/check PXE\/DHCP/);
    expect((await getHostRow(t.db, hostId))!.state).toBe("maintenance");
  });
});

describe("cancelling a run on a host Kiln cannot switch off", () => {
  const WHY = "not switched off after the cancel: Kiln cannot switch this machine off (Wake-on-LAN); switch it off by hand if it should not keep running";
  const powerJobs = async (hostId: string) => (await listQueuedJobs(t.db, { name: "power", key: "hostId", value: hostId })).map((j) => ({ state: j.state }));
  const powerEvents = async (hostId: string) => (await getHostDetail(t.db, setup.admin, hostId)).events.filter((e) => e.kind === "power").map((e) => e.message);

  it("queues no power-off (it would fail) and says why on the host's timeline; a plugin host still gets its power-off", async () => {
    // The worker, for real: a power-off that was queued would run and leave its event.
    const worker = await startWorker(t.url, { pollingIntervalSeconds: 0.5 });
    try {
      const h = await wolHost();
      await createLease(t.db, setup.admin, { hostIds: [h.id], userId: setup.holder.user!.id, projectId: setup.projectId });
      const run = await startDeployment(t.db, setup.holder, h.id, { action: "wipe_disk", disk: "vda" });
      await waitFor("the run at its boot step", () => getDeployment(t.db, setup.holder, run.id), (d) => d.currentStep === "boot");
      const cancelled = await cancelDeployment(t.db, setup.holder, run.id);
      expect(cancelled.state).toBe("cancelled");
      expect(cancelled.logs.map((l) => l.line)).toContain(WHY);

      const p = await setup.heldHost();
      const other = await startDeployment(t.db, setup.holder, p.hostId, { action: "wipe_disk", disk: "vda" });
      await waitFor("the plugin run at its boot step", () => getDeployment(t.db, setup.holder, other.id), (d) => d.currentStep === "boot");
      await cancelDeployment(t.db, setup.holder, other.id);
      // The plugin host's power-off is queued after the WoL cancel and runs: by then a WoL one would have too.
      await waitFor("the plugin host's power-off", () => powerEvents(p.hostId), (m) => m.some((x) => x.startsWith("power off (plugin) — run cancelled: ")));
      // pg-boss marks the job completed just after its handler wrote the event: wait for that too.
      await waitFor("the plugin host's power job completed", () => powerJobs(p.hostId), (jobs) => jobs.length === 1 && jobs[0]!.state === "completed");
      expect(await powerJobs(h.id)).toEqual([]);
      expect(await powerEvents(h.id)).toEqual([WHY]);
    } finally {
      await worker.stop();
    }
  });
});

describe("the words", () => {
  it("manual power asks for a restart or a switch-on, and advises nothing when the policy does not wipe it", () => {
    expect(releaseWaitMessage("manual")).toBe("Kiln cannot restart this machine (manual power): restart it, or switch it on if it is off, so it network-boots and its disk is wiped; it becomes available when the wipe is done.");
    expect(releaseWaitMessage("ipmi")).toBeNull();
    expect(releaseAdvice({ powerDriver: "manual" })).toBeNull(); // KILN_WIPE_ON_RELEASE=auto: manual hosts are not wiped
    expect(releaseAdvice({ powerDriver: "qemu" })).toBeNull();
  });
});
