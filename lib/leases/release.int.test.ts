// The end of a lease on a Wake-on-LAN host, with the real WoL driver (its magic packet caught
// by a UDP listener on 127.0.0.1) and the machine played over HTTP: Kiln wakes the machine
// for the wipe but does not try to switch it off — Wake-on-LAN cannot — so the run has no
// power-off step, the agent is told to switch the machine off itself, and the host goes back
// to its pool after every lease instead of to maintenance. The real agent script writes that
// request for the ramdisk's init after a successful wipe.
import { startProvisioningSetup, FakeMachine, type ProvisioningSetup } from "@/test/harness/provisioning";
import { execFile } from "node:child_process";
import dgram from "node:dgram";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDeploymentRow, listDeploymentRows } from "@/db/queries/deployments";
import { getHostRow } from "@/db/queries/hosts";
import { getDeployment, startDeployment } from "@/lib/deployments/deployments";
import { runWorkerSteps } from "@/lib/deployments/worker";
import { getProcessEnv } from "@/lib/env";
import { createHost } from "@/lib/hosts/hosts";
import { stopJobSender } from "@/lib/jobs/enqueue";
import { canPowerOff } from "@/lib/power/drivers";
import { magicPacket } from "@/lib/power/wol";
import { useTestDb } from "@/test/harness/database";
import { setTestEnvDefaults } from "@/test/harness/env";
import { createLease, releaseLease } from "./leases";

const t = await useTestDb();
const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-release-"));
setTestEnvDefaults({ KILN_DATA_DIR: path.join(tmp, "data") });
const AGENT = path.resolve(__dirname, "../../boot/agent/kiln-agent.sh");

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
