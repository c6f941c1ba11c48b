// The serial console end to end below the browser: tickets (who, which host, how long, how
// often), the boot server's WebSocket in front of a real QEMU serial socket (UEFI firmware's
// shell echoes what is typed), Serial-over-LAN through OpenIPMI's ipmi_sim to a serial port
// the test holds, and a run's console tail written while it runs and at its end.
import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync } from "node:fs";
import fs from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { getDeploymentConsole } from "@/db/queries/consoles";
import { listAudit } from "@/db/queries/audit";
import { updateUser } from "@/db/queries/users";
import { updateDeploymentStateForTest } from "@/db/queries/testing";
import { deployments } from "@/db/schema";
import { actorOf, type Actor } from "@/lib/access/actor";
import { createHost } from "@/lib/hosts/hosts";
import { createLease } from "@/lib/leases/leases";
import { addProjectMember, createProject } from "@/lib/projects/projects";
import { useTestDb } from "@/test/harness/database";
import { createActiveUser, expectAppError } from "@/test/harness/fixtures";
import { startIpmiSim, type IpmiSim } from "@/test/harness/ipmi-sim";
import { admitConsoleTicket, issueConsoleTicket } from "./console";
import { ConsoleHub } from "./hub";
import { ConsoleRecorder, resolveFromDb } from "./recorder";
import { createConsoleTicket, TicketBook } from "./ticket";
import { createConsoleUpgrade } from "./upgrade";

const t = await useTestDb();
const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-console-"));
let admin: Actor, holder: Actor, other: Actor;
let projectId: string;
let sim: IpmiSim | null = null;
const children: ChildProcess[] = [];

async function hostWith(name: string, mac: string, power: Record<string, unknown>) {
  const h = await createHost(t.db, admin, { name, interfaces: [{ mac }], power });
  await createLease(t.db, admin, { hostIds: [h.id], userId: holder.user!.id, projectId });
  return h.id;
}

async function waitFor<T>(check: () => T | null | undefined | false | Promise<T | null | undefined | false>, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A UEFI QEMU machine with no disk and no NIC: OVMF ends in its shell, which echoes keystrokes. */
async function startShellVm(dir: string): Promise<{ socket: string; log: string }> {
  await fs.mkdir(dir, { recursive: true });
  const vars = path.join(dir, "vars.fd");
  copyFileSync("/usr/share/OVMF/OVMF_VARS_4M.fd", vars);
  const socket = path.join(dir, "serial.sock");
  const log = path.join(dir, "serial.log");
  // The same chardev shape as lab/lab.ts's launch script.
  const vm = spawn("qemu-system-x86_64", [
    "-accel", "tcg", "-machine", "q35", "-m", "128", "-smp", "1", "-nodefaults", "-display", "none", "-monitor", "none",
    "-drive", "if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd",
    "-drive", `if=pflash,format=raw,file=${vars}`,
    "-chardev", `socket,id=serial0,path=${socket},server=on,wait=off,logfile=${log},logappend=on`,
    "-serial", "chardev:serial0",
  ], { stdio: "ignore" });
  children.push(vm);
  await waitFor(() => fs.stat(socket).then(() => true, () => false), 10_000, "QEMU's serial socket");
  return { socket, log };
}

/** The boot server's console WebSocket on a port of this process (as scripts/boot-server.ts mounts it). */
async function startConsoleServer(hub: ConsoleHub, book = new TicketBook(), recheckMs?: number) {
  const server = http.createServer((_, res) => res.writeHead(404).end());
  const upgrade = createConsoleUpgrade({ db: t.db, hub, book, recheckMs });
  server.on("upgrade", upgrade);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    open(url: string) {
      const ws = new WebSocket(`ws://127.0.0.1:${port}${url}`);
      let text = "";
      ws.on("message", (d: Buffer) => (text += d.toString("utf8")));
      const closed = new Promise<number>((r) => ws.once("close", (code) => r(code)));
      return { ws, text: () => text, closed, opened: new Promise<void>((resolve, reject) => (ws.once("open", () => resolve()), ws.once("unexpected-response", (_, res) => reject(new Error(`refused ${res.statusCode}`))))) };
    },
    close: () => {
      upgrade.close();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

beforeAll(async () => {
  admin = actorOf((await createActiveUser(t.db, { admin: true })).user, null);
  holder = actorOf((await createActiveUser(t.db)).user, null);
  other = actorOf((await createActiveUser(t.db)).user, null);
  projectId = (await createProject(t.db, admin, { name: "console" })).id;
  await addProjectMember(t.db, admin, projectId, { userId: holder.user!.id });
});
afterAll(async () => {
  for (const c of children) c.kill("SIGKILL");
  await sim?.stop();
  await fs.rm(tmp, { recursive: true, force: true });
});

describe("console tickets", () => {
  it("are issued to the holder and admins only, audited, good once, for one host, for a minute", async () => {
    const id = await hostWith("con-t1", "52:54:00:c0:00:01", { driver: "qemu", params: { qmpSocket: path.join(tmp, "t1.qmp"), launch: "/bin/true", serialSocket: path.join(tmp, "t1.sock") } });
    const otherHost = await hostWith("con-t2", "52:54:00:c0:00:02", { driver: "qemu", params: { qmpSocket: path.join(tmp, "t2.qmp"), launch: "/bin/true", serialSocket: path.join(tmp, "t2.sock") } });
    const book = new TicketBook();

    const issued = await issueConsoleTicket(t.db, holder, id);
    expect(issued).toMatchObject({ kind: "qemu", url: expect.stringMatching(new RegExp(`^/console/${id}\\?ticket=`)) });
    expect(new Date(issued.expiresAt).getTime() - Date.now()).toBeLessThanOrEqual(60_000);
    const audit = await listAudit(t.db, { targetId: id, limit: 10, offset: 0 });
    expect(JSON.stringify(audit)).toContain("host.console");

    // Another user who does not hold it: the host does not exist for them.
    await expectAppError(issueConsoleTicket(t.db, other, id), "not_found");
    // An admin may.
    expect((await issueConsoleTicket(t.db, admin, id)).kind).toBe("qemu");

    // For another host: refused there.
    await expectAppError(admitConsoleTicket(t.db, book, { hostId: otherHost, ticket: issued.ticket, ip: null }), "unauthorized", /another host/);
    // Good once.
    expect(await admitConsoleTicket(t.db, book, { hostId: id, ticket: issued.ticket, ip: null })).toEqual({ userId: holder.user!.id });
    await expectAppError(admitConsoleTicket(t.db, book, { hostId: id, ticket: issued.ticket, ip: null }), "unauthorized", /already used/);
    // Expired after its minute.
    const late = await issueConsoleTicket(t.db, holder, id);
    await expectAppError(admitConsoleTicket(t.db, book, { hostId: id, ticket: late.ticket, ip: null, now: Date.now() + 61_000 }), "unauthorized", /expired/);
    // Forged or altered.
    const [body, mac] = late.ticket.split(".");
    await expectAppError(admitConsoleTicket(t.db, book, { hostId: id, ticket: `${body}x.${mac}`, ip: null }), "unauthorized", /not valid/);
    await expectAppError(admitConsoleTicket(t.db, book, { hostId: id, ticket: createConsoleTicket({ hostId: id, userId: holder.user!.id, secret: "another key of at least 32 characters" }).ticket, ip: null }), "unauthorized", /not valid/);
    // A genuine ticket of a user who does not hold the host (minted directly: the portal would not issue it).
    await expectAppError(admitConsoleTicket(t.db, book, { hostId: id, ticket: createConsoleTicket({ hostId: id, userId: other.user!.id }).ticket, ip: null }), "not_found");
  });

  it("a host whose driver offers no console says so", async () => {
    const id = await hostWith("con-wol", "52:54:00:c0:00:03", { driver: "wol", params: {} });
    await expectAppError(issueConsoleTicket(t.db, holder, id), "conflict", /power driver \(wol\) offers no console/);
  });
});

describe("QEMU serial socket through the boot server's WebSocket", () => {
  it("shows the firmware's output, shares one attachment between two viewers, and types into the machine", { timeout: 120_000 }, async () => {
    const vm = await startShellVm(path.join(tmp, "vm1"));
    const id = await hostWith("con-vm1", "52:54:00:c0:00:11", { driver: "qemu", params: { qmpSocket: path.join(tmp, "vm1", "qmp.sock"), launch: "/bin/true", serialSocket: vm.socket } });
    const hub = new ConsoleHub({ resolve: resolveFromDb(t.db), retryMs: 500 });
    const server = await startConsoleServer(hub);
    try {
      // No ticket, a used ticket: refused before any WebSocket.
      await expect(server.open(`/console/${id}`).opened).rejects.toThrow(/refused 401/);
      const a = server.open((await issueConsoleTicket(t.db, holder, id)).url);
      await a.opened;
      await waitFor(() => /Shell>/.test(a.text()), 90_000, "OVMF's shell prompt on the console");
      const b = server.open((await issueConsoleTicket(t.db, admin, id)).url);
      await b.opened;
      expect(hub.attachedHosts()).toEqual([id]);
      expect(hub.subscriberCount(id)).toBe(2);
      // The newcomer sees the recent output at once.
      await waitFor(() => /Shell>/.test(b.text()), 5_000, "the replay for the second viewer");
      a.ws.send("echo kiln-typed-42\r");
      // The shell's answer (its own line), seen by both viewers and logged to serial.log as before.
      await waitFor(() => /\r\nkiln-typed-42\r\n/.test(a.text()) && /\r\nkiln-typed-42\r\n/.test(b.text()), 30_000, "the echoed command's output");
      expect(await fs.readFile(vm.log, "utf8")).toMatch(/\r\nkiln-typed-42\r\n/);
      a.ws.close();
      b.ws.close();
      await waitFor(() => hub.attachedHosts().length === 0, 5_000, "the attachment to close with its last viewer");
    } finally {
      await server.close();
      hub.closeAll();
    }
  });

  it("a machine that is off is waited for, with a notice", async () => {
    const id = await hostWith("con-off", "52:54:00:c0:00:12", { driver: "qemu", params: { qmpSocket: path.join(tmp, "off.qmp"), launch: "/bin/true", serialSocket: path.join(tmp, "off.sock") } });
    const hub = new ConsoleHub({ resolve: resolveFromDb(t.db), retryMs: 200 });
    const server = await startConsoleServer(hub);
    try {
      const c = server.open((await issueConsoleTicket(t.db, holder, id)).url);
      await c.opened;
      await waitFor(() => /\[Kiln\] The machine is off/.test(c.text()), 5_000, "the off notice");
      c.ws.close();
    } finally {
      await server.close();
      hub.closeAll();
    }
  });
});

describe("an open console", () => {
  it("is closed when its viewer no longer may watch (account disabled)", async () => {
    const viewer = actorOf((await createActiveUser(t.db)).user, null);
    await addProjectMember(t.db, admin, projectId, { userId: viewer.user!.id });
    const h = await createHost(t.db, admin, { name: "con-gone", interfaces: [{ mac: "52:54:00:c0:00:13" }], power: { driver: "qemu", params: { qmpSocket: path.join(tmp, "gone.qmp"), launch: "/bin/true", serialSocket: path.join(tmp, "gone.sock") } } });
    await createLease(t.db, admin, { hostIds: [h.id], userId: viewer.user!.id, projectId });
    const hub = new ConsoleHub({ resolve: resolveFromDb(t.db), retryMs: 200 });
    const server = await startConsoleServer(hub, new TicketBook(), 200);
    try {
      const c = server.open((await issueConsoleTicket(t.db, viewer, h.id)).url);
      await c.opened;
      await new Promise((r) => setTimeout(r, 500));
      expect(c.ws.readyState).toBe(WebSocket.OPEN);
      await updateUser(t.db, viewer.user!.id, { disabledAt: new Date() });
      expect(await c.closed).toBe(4403);
      expect(c.text()).toContain("You no longer hold this machine");
    } finally {
      await server.close();
      hub.closeAll();
    }
  });
});

describe("IPMI Serial-over-LAN against ipmi_sim", () => {
  it("carries the machine's serial output to the viewer and keystrokes back", { timeout: 60_000 }, async () => {
    // The machine's serial port is this TCP server: ipmi_sim's `sol "tcp:…"` connects to it,
    // as it would to a QEMU serial port (a stand-in for the machine; the BMC and the SOL are real).
    const received: Buffer[] = [];
    const serialPorts = new Set<net.Socket>();
    const serial = net.createServer((s) => {
      serialPorts.add(s);
      s.on("data", (d) => received.push(d));
      s.on("close", () => serialPorts.delete(s));
    });
    await new Promise<void>((r) => serial.listen(0, "127.0.0.1", () => r()));
    sim = await startIpmiSim({ solTcpPort: (serial.address() as net.AddressInfo).port });
    const id = await hostWith("con-sol", "52:54:00:c0:00:21", { driver: "ipmi", params: { address: "127.0.0.1", port: sim.port, username: sim.username }, secrets: { password: sim.password } });
    const hub = new ConsoleHub({ resolve: resolveFromDb(t.db), retryMs: 500 });
    const server = await startConsoleServer(hub);
    try {
      const c = server.open((await issueConsoleTicket(t.db, holder, id)).url);
      await c.opened;
      await waitFor(() => /\[Kiln\] Connected/.test(c.text()), 20_000, "the SOL session");
      await waitFor(() => serialPorts.size > 0, 10_000, "ipmi_sim's connection to the serial port");
      for (const s of serialPorts) s.write("login: from-the-machine\r\n");
      await waitFor(() => c.text().includes("login: from-the-machine"), 15_000, "the machine's bytes in the browser's stream");
      c.ws.send("typed-over-sol\r");
      await waitFor(() => Buffer.concat(received).toString().includes("typed-over-sol\r"), 15_000, "the keystrokes at the machine's serial port");
      c.ws.close();
      await waitFor(() => hub.attachedHosts().length === 0, 5_000, "the SOL session to end");
    } finally {
      await server.close();
      hub.closeAll();
      serial.close();
    }
  });
});

describe("the run's console tail", () => {
  it("records a running run's last lines every pass, picks up again after a restart, and writes the end", { timeout: 60_000 }, async () => {
    // The machine's serial socket is a unix socket this test serves (QEMU's would take as
    // long to boot as the test above); what the recorder does with the bytes is the point here.
    const sockPath = path.join(tmp, "rec.sock");
    const machines = new Set<net.Socket>();
    const machine = net.createServer((s) => {
      machines.add(s);
      s.on("close", () => machines.delete(s));
    });
    await new Promise<void>((r) => machine.listen(sockPath, () => r()));
    const id = await hostWith("con-rec", "52:54:00:c0:00:31", { driver: "qemu", params: { qmpSocket: path.join(tmp, "rec.qmp"), launch: "/bin/true", serialSocket: sockPath } });
    const [run] = await t.db.insert(deployments).values({ hostId: id, action: "wipe_disk", state: "running", tokenHash: `h-${id}`, tokenExpiresAt: new Date(Date.now() + 3600_000) }).returning();
    const say = (s: string) => machines.forEach((m) => m.write(s));

    const hub = new ConsoleHub({ resolve: resolveFromDb(t.db), retryMs: 200 });
    let recorder = new ConsoleRecorder({ db: t.db, hub });
    await recorder.tick();
    expect(recorder.recording()).toEqual([run!.id]);
    await waitFor(() => machines.size === 1, 5_000, "the recorder's attachment");
    say("\x1b[2J\x1b[1;1HBooting Linux...\r\n");
    for (let i = 1; i <= 250; i++) say(`line ${i}\r\n`);
    say("progress 10%\rprogress 99%\r\n");
    await new Promise((r) => setTimeout(r, 300));
    await recorder.tick();
    let text = (await getDeploymentConsole(t.db, run!.id))!.text;
    const lines = text.split("\n");
    expect(lines.length).toBeLessThanOrEqual(201);
    expect(text).not.toContain("Booting Linux");
    expect(text).toContain("line 250\nprogress 99%\n");
    expect(text).not.toContain("\x1b");

    // The boot server restarts: a new recorder attaches once and appends to what was stored.
    await recorder.stop();
    hub.closeAll();
    const hub2 = new ConsoleHub({ resolve: resolveFromDb(t.db), retryMs: 200 });
    recorder = new ConsoleRecorder({ db: t.db, hub: hub2 });
    await Promise.all([recorder.tick(), recorder.tick()]);
    await recorder.tick();
    await waitFor(() => machines.size === 1 && hub2.attachedHosts().length === 1, 5_000, "one attachment after the restart");
    expect(hub2.subscriberCount(id)).toBe(1);
    say("kernel panic: the reason it failed\r\n");
    await new Promise((r) => setTimeout(r, 300));
    // The run ends (failed): the last pass writes the end and lets go.
    await updateDeploymentStateForTest(t.db, { id: run!.id, state: "failed" });
    await recorder.tick();
    expect(recorder.recording()).toEqual([]);
    text = (await getDeploymentConsole(t.db, run!.id))!.text;
    expect(text).toContain("line 250\nprogress 99%\nkernel panic: the reason it failed\n");
    await waitFor(() => machines.size === 0, 5_000, "the attachment to close when the run ended");
    hub2.closeAll();
    machine.close();
  });
});
