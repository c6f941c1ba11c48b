// The power poll against real power controls: ipmi_sim (IPMI), a real QEMU VM (qemu, its QMP
// socket), the Redfish emulator (written from the DMTF schema: no real Redfish service can run
// here), a plugin script; manual and Wake-on-LAN hosts are not asked and show unknown with why.
// Then the worker runs the poll job by itself.
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listHostPower } from "@/db/queries/power";
import { actorOf } from "@/lib/access/actor";
import { createHost, deleteHost } from "@/lib/hosts/hosts";
import { useTestDb } from "@/test/harness/database";
import { setTestEnv } from "@/test/harness/env";
import { createActiveUser } from "@/test/harness/fixtures";
import { startIpmiSim, type IpmiSim } from "@/test/harness/ipmi-sim";
import { startRedfishSim, type RedfishSim } from "@/test/harness/redfish-sim";
import { startWorker } from "@/workers/worker";
import { noStateReasons, pollPowerStates } from "./poll";
import { qemuDriver } from "./qemu";

const t = await useTestDb();
const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-poll-"));
let admin: ReturnType<typeof actorOf>;
let ipmi: IpmiSim;
let redfish: RedfishSim;
let slow: RedfishSim;
const qmpSocket = path.join(tmp, "vm.qmp");
const launch = path.join(tmp, "start-vm.sh");
const ids: Record<string, string> = {};
let mac = 0;

async function host(name: string, power: Record<string, unknown>): Promise<string> {
  const h = await createHost(t.db, admin, { name, interfaces: [{ mac: `52:54:00:30:00:${(++mac).toString(16).padStart(2, "0")}` }], power });
  ids[name] = h.id;
  return h.id;
}

async function states(): Promise<Record<string, { state: string; message: string; checkedAt: Date; changedAt: Date }>> {
  const rows = await listHostPower(t.db, Object.values(ids));
  const byId = Object.fromEntries(rows.map((r) => [r.hostId, r]));
  return Object.fromEntries(Object.entries(ids).filter(([, id]) => byId[id]).map(([n, id]) => [n, byId[id]!]));
}

beforeAll(async () => {
  admin = actorOf((await createActiveUser(t.db, { admin: true })).user, null);
  [ipmi, redfish, slow] = await Promise.all([startIpmiSim(), startRedfishSim({ powerState: "On" }), startRedfishSim({ delayMs: 5000 })]);
  // A disk-less VM: SeaBIOS finds nothing to boot, which is all a power state needs.
  await fs.writeFile(launch, `#!/bin/sh\nexec qemu-system-x86_64 -accel tcg -m 64 -nodefaults -display none -monitor none -serial none -qmp unix:${qmpSocket},server=on,wait=off\n`, { mode: 0o755 });
  const plugin = path.join(tmp, "plugin.sh");
  await fs.writeFile(plugin, `#!/bin/sh\ncat >/dev/null\necho '{"ok":true,"state":"off","message":"PDU outlet 4 is off"}'\n`, { mode: 0o755 });
  await host("p-ipmi", { driver: "ipmi", params: { address: "127.0.0.1", port: ipmi.port, username: ipmi.username }, secrets: { password: ipmi.password } });
  await host("p-qemu", { driver: "qemu", params: { qmpSocket, launch } });
  await host("p-redfish", { driver: "redfish", params: { address: redfish.address, username: redfish.username, verifyCertificate: false }, secrets: { password: redfish.password } });
  await host("p-plugin", { driver: "plugin", params: { command: plugin } });
  await host("p-manual", { driver: "manual" });
  await host("p-wol", { driver: "wol", params: { broadcast: "127.0.0.1" } });
  // A BMC that takes 5 s per answer: the poll must not wait for it.
  await host("p-dead", { driver: "redfish", params: { address: slow.address, username: slow.username, verifyCertificate: false }, secrets: { password: slow.password } });
});

afterAll(async () => {
  await qemuDriver.run("off", { host: { name: "p-qemu", macs: [], pxeMac: null }, params: { qmpSocket, launch }, secrets: {}, log: () => {} }).catch(() => {});
  await Promise.all([ipmi?.stop(), redfish?.stop(), slow?.stop()]);
  await fs.rm(tmp, { recursive: true, force: true });
});

describe("power poll", () => {
  it("records each driver's state; a dead BMC is unknown after the deadline and holds up no one", async () => {
    const started = Date.now();
    const summary = await pollPowerStates(t.db, { concurrency: 4, timeoutMs: 1500 });
    const ms = Date.now() - started;
    expect(summary).toMatchObject({ polled: 5, on: 1, off: 3, unknown: 1, failed: 1, markedUnknown: 2 });
    // 5 hosts, 4 lanes, ipmitool ~0.1-0.5 s: well under the dead BMC's 5 s.
    expect(ms).toBeLessThan(4500);
    const s = await states();
    expect(s["p-ipmi"]).toMatchObject({ state: "off", message: "Chassis Power is off" });
    expect(s["p-qemu"]).toMatchObject({ state: "off", message: "VM is not running" });
    expect(s["p-redfish"]).toMatchObject({ state: "on", message: "PowerState is On" });
    expect(s["p-plugin"]).toMatchObject({ state: "off", message: "PDU outlet 4 is off" });
    expect(s["p-dead"]).toMatchObject({ state: "unknown", message: "No answer from p-dead's power control (redfish) within 1.5 s." });
    expect(s["p-manual"]).toMatchObject({ state: "unknown", message: noStateReasons().manual });
    expect(s["p-wol"]).toMatchObject({ state: "unknown", message: "Wake-on-LAN can only wake a machine; it cannot tell whether the machine is on." });
    // Manual and Wake-on-LAN hosts are written once, not on every poll.
    expect((await pollPowerStates(t.db, { concurrency: 4, timeoutMs: 1500 })).markedUnknown).toBe(0);
  });

  it("follows a machine that changes state; 'since' moves only on a change", async () => {
    const first = await states();
    // The VM starts (a real QEMU), the IPMI chassis is switched on, the Redfish system off.
    await qemuDriver.run("on", { host: { name: "p-qemu", macs: [], pxeMac: null }, params: { qmpSocket, launch }, secrets: {}, log: () => {} });
    for (let i = 0; i < 100 && (await qemuDriver.run("status", { host: { name: "p-qemu", macs: [], pxeMac: null }, params: { qmpSocket }, secrets: {}, log: () => {} })).state !== "on"; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    redfish.setPowerState("Off");
    await pollPowerStates(t.db, { concurrency: 8, timeoutMs: 1500 });
    const s = await states();
    expect(s["p-qemu"]).toMatchObject({ state: "on", message: "VM is running" });
    expect(s["p-redfish"]).toMatchObject({ state: "off" });
    expect(s["p-qemu"]!.changedAt.getTime()).toBeGreaterThan(first["p-qemu"]!.changedAt.getTime());
    // Same state as before: checked again, but "since" stays.
    expect(s["p-ipmi"]!.checkedAt.getTime()).toBeGreaterThan(first["p-ipmi"]!.checkedAt.getTime());
    expect(s["p-ipmi"]!.changedAt.getTime()).toBe(first["p-ipmi"]!.changedAt.getTime());
  });

  it("the worker runs the poll by itself, at start and then every KILN_POWER_POLL_SECONDS; 0 turns it off", async () => {
    await deleteHost(t.db, admin, ids["p-dead"]!);
    delete ids["p-dead"];
    const before = (await states())["p-redfish"]!.checkedAt.getTime();
    redfish.setPowerState("On");
    // Integration tests run with the poll off (test/harness/env.ts); a worker without it never polls.
    const idle = await startWorker(t.url, { pollingIntervalSeconds: 0.5 });
    await new Promise((r) => setTimeout(r, 1500));
    await idle.stop();
    expect((await states())["p-redfish"]!.checkedAt.getTime()).toBe(before);
    setTestEnv({ KILN_POWER_POLL_SECONDS: "5" });
    const worker = await startWorker(t.url, { pollingIntervalSeconds: 0.5 });
    try {
      const deadline = Date.now() + 20_000;
      let s = await states();
      while (s["p-redfish"]!.checkedAt.getTime() === before && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        s = await states();
      }
      expect(s["p-redfish"]).toMatchObject({ state: "on", message: "PowerState is On" });
      // And again after the interval, without anyone asking.
      redfish.setPowerState("Off");
      await expect.poll(async () => (await states())["p-redfish"]!.state, { timeout: 12_000, interval: 250 }).toBe("off");
    } finally {
      await worker.stop();
      setTestEnv();
    }
  });
});
