// The Redfish driver against test/harness/redfish-sim.ts — an emulator written from the DMTF
// schema, because no real Redfish service can run here (none is packaged for Debian or npm,
// and there is no BMC). HTTPS with its self-signed certificate, Basic authentication.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { actorOf } from "@/lib/access/actor";
import { createHost, updateHost } from "@/lib/hosts/hosts";
import { createLease } from "@/lib/leases/leases";
import { addProjectMember, createProject } from "@/lib/projects/projects";
import { useTestDb } from "@/test/harness/database";
import { createActiveUser, expectAppError } from "@/test/harness/fixtures";
import { startRedfishSim, type RedfishSim } from "@/test/harness/redfish-sim";
import { powerHost, testPowerSettings } from "./power";
import { redfishDriver } from "./redfish";
import { getHostPowerView, listHostPowerViews } from "./view";
import type { PowerContext } from "./types";

const t = await useTestDb();
let sim: RedfishSim;
let admin: ReturnType<typeof actorOf>;
let holder: ReturnType<typeof actorOf>;
let projectId: string;

function ctx(params: Record<string, unknown> = {}, password?: string): PowerContext {
  return {
    host: { name: "rf-1", macs: [], pxeMac: null },
    params: { address: sim.address, username: sim.username, verifyCertificate: false, ...params },
    secrets: { password: password ?? sim.password },
    log: () => {},
  };
}

beforeAll(async () => {
  sim = await startRedfishSim();
  admin = actorOf((await createActiveUser(t.db, { admin: true })).user, null);
  holder = actorOf((await createActiveUser(t.db)).user, null);
  projectId = (await createProject(t.db, admin, { name: "redfish" })).id;
  await addProjectMember(t.db, admin, projectId, { userId: holder.user!.id });
});
afterAll(() => sim?.stop());

describe("Redfish driver against the emulator", () => {
  it("maps PowerState, switches on with Reset On, restarts with ForceRestart, switches off with ForceOff", async () => {
    sim.setPowerState("Off");
    expect(await redfishDriver.run("status", ctx())).toEqual({ state: "off", message: "PowerState is Off" });
    expect(await redfishDriver.run("on", ctx())).toMatchObject({ state: "on" });
    expect(sim.powerState()).toBe("On");
    expect(await redfishDriver.run("status", ctx())).toEqual({ state: "on", message: "PowerState is On" });
    expect(await redfishDriver.run("on", ctx())).toMatchObject({ state: "on", message: "The machine was already on." });
    expect(await redfishDriver.run("cycle", ctx())).toMatchObject({ state: "on", message: "Restarted (ForceRestart)." });
    expect(await redfishDriver.run("off", ctx())).toMatchObject({ state: "off", message: "Switched off (ForceOff)." });
    expect(sim.powerState()).toBe("Off");
    // "cycle" on a machine that is off switches it on (a restart of nothing does nothing).
    expect(await redfishDriver.run("cycle", ctx())).toMatchObject({ state: "on", message: "The machine was off; switched it on." });
    expect(sim.resets()).toEqual(["On", "ForceRestart", "ForceOff", "On"]);
    // The system was found through the Systems collection (no systemId given).
    expect(sim.requests().some((r) => r.method === "GET" && r.path === "/redfish/v1/Systems")).toBe(true);
  });

  it("uses PowerCycle when the BMC offers it, and an explicit system id", async () => {
    const other = await startRedfishSim({ resetTypes: ["On", "ForceOff", "ForceRestart", "PowerCycle"], powerState: "On", systemId: "Self" });
    try {
      const c: PowerContext = { ...ctx(), params: { address: other.address, username: other.username, verifyCertificate: false, systemId: "Self" }, secrets: { password: other.password } };
      expect(await redfishDriver.run("cycle", c)).toMatchObject({ message: "Restarted (PowerCycle)." });
      expect(other.resets()).toEqual(["PowerCycle"]);
      expect(other.requests().some((r) => r.path === "/redfish/v1/Systems")).toBe(false);
      await expect(redfishDriver.run("status", { ...c, params: { ...c.params, systemId: "nope" } })).rejects.toThrow(/no system “nope”/);
    } finally {
      await other.stop();
    }
  });

  it("sets the one-shot PXE boot override before switching on", async () => {
    sim.setPowerState("Off");
    await redfishDriver.run("on", { ...ctx(), bootFromNetwork: true });
    expect(sim.boot()).toMatchObject({ BootSourceOverrideTarget: "Pxe", BootSourceOverrideEnabled: "Once" });
    const patch = sim.requests().filter((r) => r.method === "PATCH").at(-1);
    expect(patch?.body).toEqual({ Boot: { BootSourceOverrideTarget: "Pxe", BootSourceOverrideEnabled: "Once" } });
  });

  it("says what is wrong: password, certificate, address, timeout", async () => {
    await expect(redfishDriver.run("status", ctx({}, "wrong"))).rejects.toThrow(`The BMC at ${sim.address} refused the login: check the username and password.`);
    // verifyCertificate defaults to true, and the emulator's certificate is self-signed.
    await expect(redfishDriver.run("status", ctx({ verifyCertificate: undefined }))).rejects.toThrow(/certificate .* is not trusted .*untick “verify certificate”/);
    await expect(redfishDriver.run("status", ctx({ address: "" }))).rejects.toThrow(/needs the BMC's address/);
    await expect(redfishDriver.run("status", ctx({ address: "ftp://x" }))).rejects.toThrow(/must start with https:\/\//);
    await expect(redfishDriver.run("status", ctx({ address: "https://127.0.0.1:9" }))).rejects.toThrow("Nothing answers at https://127.0.0.1:9: check the BMC's address and port.");
    const slow = await startRedfishSim({ delayMs: 3000 });
    try {
      const started = Date.now();
      await expect(redfishDriver.run("status", { ...ctx(), params: { address: slow.address, username: slow.username, verifyCertificate: false, timeoutSeconds: 1 }, secrets: { password: slow.password } })).rejects.toThrow(
        `The BMC at ${slow.address} did not answer within 1 s.`,
      );
      expect(Date.now() - started).toBeLessThan(2500);
    } finally {
      await slow.stop();
    }
  });
});

describe("Redfish through the API's lib functions", () => {
  it("a holder powers on with the next boot from the network; the admin's test reads the state", async () => {
    sim.setPowerState("Off");
    const h = await createHost(t.db, admin, {
      name: "rf-api",
      interfaces: [{ mac: "52:54:00:20:00:01" }],
      power: { driver: "redfish", params: { address: sim.address, username: sim.username, verifyCertificate: false }, secrets: { password: sim.password } },
    });
    await createLease(t.db, admin, { hostIds: [h.id], userId: holder.user!.id, projectId });
    const before = sim.resets().length;
    expect(await powerHost(t.db, holder, h.id, { action: "on", bootFromNetwork: true })).toMatchObject({ state: "on" });
    expect(sim.resets().slice(before)).toEqual(["On"]);
    expect(sim.boot().BootSourceOverrideTarget).toBe("Pxe");
    expect(await testPowerSettings(t.db, admin, h.id)).toMatchObject({ ok: true, state: "on", message: "PowerState is On" });
    // The badge follows the action at once, not at the next poll; "since" is when it changed.
    const view = await getHostPowerView(t.db, holder, h.id);
    expect(view).toMatchObject({ state: "on", driver: "redfish", reportsState: true, canPowerOff: true, networkBoot: "override" });
    sim.setPowerState("Off");
    expect(await powerHost(t.db, holder, h.id, { action: "status" })).toMatchObject({ state: "off" });
    expect((await getHostPowerView(t.db, holder, h.id)).changedAt! > view.changedAt!).toBe(true);
    // Lists: the holder sees the hosts they hold, someone else none, an admin all.
    const stranger = actorOf((await createActiveUser(t.db)).user, null);
    const manual = await createHost(t.db, admin, { name: "rf-manual", interfaces: [{ mac: "52:54:00:20:00:03" }], power: { driver: "manual" } });
    expect((await listHostPowerViews(t.db, holder, [h.id, manual.id])).data.map((v) => v.hostId)).toEqual([h.id]);
    expect((await listHostPowerViews(t.db, stranger, [h.id, manual.id])).data).toEqual([]);
    const all = (await listHostPowerViews(t.db, admin, [h.id, manual.id])).data;
    expect(all.find((v) => v.hostId === manual.id)).toMatchObject({ state: "unknown", reportsState: false, canPowerOff: false, networkBoot: null, message: expect.stringContaining("switched by hand") });
    await expectAppError(getHostPowerView(t.db, stranger, h.id), "not_found");
    // New power settings: the old reading is forgotten until the next poll or test.
    await updateHost(t.db, admin, h.id, { power: { driver: "redfish", params: { address: sim.address, username: sim.username, verifyCertificate: false } } });
    expect(await getHostPowerView(t.db, holder, h.id)).toMatchObject({ state: "unknown", checkedAt: null, message: "Not read yet: Kiln reads it at its next poll (or press “Check now”)." });
    expect(await testPowerSettings(t.db, admin, h.id)).toMatchObject({ ok: true, state: "off" });
    expect(await getHostPowerView(t.db, holder, h.id)).toMatchObject({ state: "off" });
    // A failed reading ("Check now", the test button) is recorded as unknown, with why.
    await updateHost(t.db, admin, h.id, { power: { driver: "redfish", params: { address: sim.address, username: sim.username, verifyCertificate: false }, secrets: { password: "wrong" } } });
    await expectAppError(powerHost(t.db, holder, h.id, { action: "status" }), "unavailable", /refused the login/);
    expect(await getHostPowerView(t.db, holder, h.id)).toMatchObject({ state: "unknown", message: expect.stringContaining("refused the login: check the username and password") });
    await expectAppError(powerHost(t.db, holder, h.id, { action: "on", bootFromNetwork: "yes" }), "validation");
  });

  it("refuses 'boot from network' for a driver that cannot choose the boot device", async () => {
    const h = await createHost(t.db, admin, { name: "man-net", interfaces: [{ mac: "52:54:00:20:00:02" }], power: { driver: "manual" } });
    await createLease(t.db, admin, { hostIds: [h.id], userId: holder.user!.id, projectId });
    await expectAppError(powerHost(t.db, holder, h.id, { action: "on", bootFromNetwork: true }), "validation", /cannot choose the next boot device/);
  });
});
