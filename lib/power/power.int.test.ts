import { execFile } from "node:child_process";
import dgram from "node:dgram";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { actorOf } from "@/lib/access/actor";
import { createHost, updateHost } from "@/lib/hosts/hosts";
import { createLease } from "@/lib/leases/leases";
import { addProjectMember, createProject } from "@/lib/projects/projects";
import { powerHost, testPowerSettings } from "@/lib/power/power";
import { magicPacket } from "@/lib/power/wol";
import { useTestDb } from "@/test/harness/database";
import { createActiveUser, expectAppError } from "@/test/harness/fixtures";
import { startIpmiSim, type IpmiSim } from "@/test/harness/ipmi-sim";

const exec = promisify(execFile);
const t = await useTestDb();
let admin: ReturnType<typeof actorOf>;
let holder: ReturnType<typeof actorOf>;
let other: ReturnType<typeof actorOf>;
let sim: IpmiSim;
let projectId: string;
const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-power-"));

async function hostWith(name: string, mac: string, power: Record<string, unknown>, lease = true) {
  const h = await createHost(t.db, admin, { name, interfaces: [{ mac }], power });
  if (lease) await createLease(t.db, admin, { hostIds: [h.id], userId: holder.user!.id, projectId });
  return h.id;
}

beforeAll(async () => {
  admin = actorOf((await createActiveUser(t.db, { admin: true })).user, null);
  holder = actorOf((await createActiveUser(t.db)).user, null);
  other = actorOf((await createActiveUser(t.db)).user, null);
  projectId = (await createProject(t.db, admin, { name: "power" })).id;
  await addProjectMember(t.db, admin, projectId, { userId: holder.user!.id });
  sim = await startIpmiSim();
});
afterAll(async () => {
  await sim?.stop();
  await fs.rm(tmp, { recursive: true, force: true });
});

describe("IPMI against ipmi_sim", () => {
  it("switches on, reports status, switches off, and the BMC saw each command", async () => {
    const id = await hostWith("ipmi-1", "52:54:00:10:00:01", { driver: "ipmi", params: { address: "127.0.0.1", port: sim.port, username: sim.username }, secrets: { password: sim.password } });
    expect(await powerHost(t.db, holder, id, { action: "on" })).toMatchObject({ state: "on" });
    expect(sim.power()).toBe("on");
    expect(await powerHost(t.db, holder, id, { action: "status" })).toMatchObject({ state: "on", message: "Chassis Power is on" });
    expect(await powerHost(t.db, holder, id, { action: "off" })).toMatchObject({ state: "off" });
    expect(await powerHost(t.db, holder, id, { action: "status" })).toMatchObject({ state: "off" });
    expect(sim.commands()).toEqual(["power 1", "power 0"]);
    expect(await testPowerSettings(t.db, admin, id)).toMatchObject({ ok: true, state: "off" });
    // Someone who does not hold the host cannot power it.
    await expectAppError(powerHost(t.db, other, id, { action: "on" }), "not_found");
  });

  it("a wrong password is a clear refusal, and the test button says so", async () => {
    const id = await hostWith("ipmi-2", "52:54:00:10:00:02", { driver: "ipmi", params: { address: "127.0.0.1", port: sim.port, username: sim.username }, secrets: { password: "wrong" } });
    await expectAppError(powerHost(t.db, holder, id, { action: "status" }), "unavailable", /refused the login/);
    expect(await testPowerSettings(t.db, admin, id)).toMatchObject({ ok: false, message: expect.stringContaining("refused the login") });
  });

  it("an unreachable BMC times out with its address in the message", async () => {
    const id = await hostWith("ipmi-3", "52:54:00:10:00:03", { driver: "ipmi", params: { address: "127.0.0.1", port: 9, username: "admin", retries: 1, timeoutSeconds: 1 }, secrets: { password: "x" } }, false);
    const r = await testPowerSettings(t.db, admin, id);
    expect(r.ok).toBe(false);
    expect(r.message).toContain("127.0.0.1");
  });
});

describe("Wake-on-LAN", () => {
  it("sends the magic packet, byte for byte the same as Debian's wakeonlan", async () => {
    const listener = dgram.createSocket("udp4");
    const packets: Buffer[] = [];
    listener.on("message", (m) => packets.push(m));
    await new Promise<void>((r) => listener.bind(0, "127.0.0.1", () => r()));
    const port = listener.address().port;
    const mac = "52:54:00:10:00:10";
    const id = await hostWith("wol-1", mac, { driver: "wol", params: { broadcast: "127.0.0.1", port } });
    expect(await powerHost(t.db, holder, id, { action: "on" })).toMatchObject({ state: "unknown", message: `Sent Wake-on-LAN to ${mac}.` });
    await exec("wakeonlan", ["-i", "127.0.0.1", "-p", String(port), mac]);
    for (let i = 0; i < 40 && packets.length < 2; i++) await new Promise((r) => setTimeout(r, 25));
    listener.close();
    expect(packets).toHaveLength(2);
    const expected = Buffer.concat([Buffer.alloc(6, 0xff), ...Array(16).fill(Buffer.from("52540010" + "0010", "hex"))]);
    expect(packets[0]!.equals(expected)).toBe(true);
    expect(packets[0]!.equals(packets[1]!)).toBe(true);
    expect(magicPacket("52-54-00-10-00-10").equals(expected)).toBe(true);
    await expectAppError(powerHost(t.db, holder, id, { action: "off" }), "unavailable", /can only switch machines on/);
  });
});

describe("plugin", () => {
  async function plugin(name: string, body: string): Promise<string> {
    const file = path.join(tmp, name);
    await fs.writeFile(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    return file;
  }

  it("feeds JSON on stdin and reads JSON from stdout; stderr goes to the log", async () => {
    const seen = path.join(tmp, "seen.json");
    const cmd = await plugin("ok.sh", `cat > ${seen}; echo "talked to the PDU" >&2; echo '{"ok": true, "state": "on", "message": "outlet 7 on"}'`);
    const id = await hostWith("plug-1", "52:54:00:10:00:20", { driver: "plugin", params: { command: cmd, outlet: 7 }, secrets: { token: "pdu-secret" } });
    const r = await powerHost(t.db, holder, id, { action: "on" });
    expect(r).toMatchObject({ state: "on", message: "outlet 7 on", log: ["plugin: talked to the PDU"] });
    const input = JSON.parse(await fs.readFile(seen, "utf8"));
    expect(input).toMatchObject({ action: "on", host: { name: "plug-1", macs: ["52:54:00:10:00:20"] }, params: { command: cmd, outlet: 7 }, secrets: { token: "pdu-secret" } });
  });

  it("reports a plugin's failure with its reason", async () => {
    const cmd = await plugin("fail.sh", `cat >/dev/null; echo "PDU unreachable" >&2; exit 3`);
    const id = await hostWith("plug-2", "52:54:00:10:00:21", { driver: "plugin", params: { command: cmd } });
    await expectAppError(powerHost(t.db, holder, id, { action: "on" }), "unavailable", /failed to on plug-2: PDU unreachable/);
  });

  it("stops a plugin that hangs, at its timeout", async () => {
    const cmd = await plugin("hang.sh", `sleep 30`);
    const id = await hostWith("plug-3", "52:54:00:10:00:22", { driver: "plugin", params: { command: cmd, timeoutSeconds: 1 } });
    const started = Date.now();
    await expectAppError(powerHost(t.db, holder, id, { action: "on" }), "unavailable", /did not answer within 1 s/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("refuses a plugin path that is not an executable", async () => {
    const id = await hostWith("plug-4", "52:54:00:10:00:23", { driver: "plugin", params: { command: "/nonexistent/plugin" } });
    await expectAppError(powerHost(t.db, holder, id, { action: "on" }), "unavailable", /does not exist or is not executable/);
  });
});

describe("manual", () => {
  it("asks the holder to press the button", async () => {
    const id = await hostWith("man-1", "52:54:00:10:00:30", { driver: "manual" });
    expect(await powerHost(t.db, holder, id, { action: "cycle" })).toMatchObject({ state: "unknown", message: "man-1: Power-cycle the machine by hand now (switch it off and on again)." });
    await updateHost(t.db, admin, id, { notes: "x" });
  });
});
