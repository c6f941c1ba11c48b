// The qemu power driver against a real QEMU: "on" runs the VM's launch script, status and
// reset go through its QMP socket, "off" quits it.
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { qemuDriver } from "./qemu";
import type { PowerContext } from "./types";

const dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-qemu-power-"));
const socket = path.join(dir, "vm.qmp");
const launch = path.join(dir, "start-vm.sh");
const pidFile = path.join(dir, "vm.pid");
await fs.writeFile(
  launch,
  // A machine with no disk: SeaBIOS runs and finds nothing to boot, which is all a power test needs.
  `#!/bin/sh\nexec qemu-system-x86_64 -accel tcg -m 64 -nodefaults -display none -monitor none -serial none -qmp unix:${socket},server=on,wait=off -pidfile ${pidFile} -boot order=c\n`,
  { mode: 0o755 },
);
const log: string[] = [];
const ctx: PowerContext = { host: { name: "vm-1", macs: [], pxeMac: null }, params: { qmpSocket: socket, launch }, secrets: {}, log: (l) => log.push(l) };

/** Whether the process is alive (signal 0 only checks). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

let vmPid: number | undefined;

afterAll(async () => {
  await qemuDriver.run("off", ctx).catch(() => {});
  // Even when "off" did not stop it (a failed run), no QEMU outlives the test.
  if (vmPid && isAlive(vmPid)) process.kill(vmPid, "SIGKILL");
  await fs.rm(dir, { recursive: true, force: true });
});

async function waitForStatus(want: "on" | "off"): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const r = await qemuDriver.run("status", ctx).catch(() => null);
    if (r?.state === want) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the VM did not become ${want}`);
}

describe("qemu power driver", () => {
  it("starts the VM, reports it on, resets it, stops it", async () => {
    expect(await qemuDriver.run("status", ctx)).toMatchObject({ state: "off" });
    expect(await qemuDriver.run("on", ctx)).toMatchObject({ state: "on", message: "VM started." });
    await waitForStatus("on");
    vmPid = Number(await fs.readFile(pidFile, "utf8"));
    expect(isAlive(vmPid)).toBe(true);
    expect(await qemuDriver.run("on", ctx)).toMatchObject({ message: "VM already running." });
    expect(await qemuDriver.run("cycle", ctx)).toMatchObject({ state: "on", message: "VM reset." });
    expect(await qemuDriver.run("off", ctx)).toMatchObject({ state: "off" });
    await waitForStatus("off");
    // Stopped means QEMU exited, not only that it no longer says "running" (a paused VM does not either).
    for (let i = 0; i < 50 && isAlive(vmPid); i++) await new Promise((r) => setTimeout(r, 100));
    expect(isAlive(vmPid)).toBe(false);
    expect(log).toEqual([`qemu: started the VM of vm-1 (${launch})`, "qemu: reset the VM of vm-1", "qemu: stopped the VM of vm-1"]);
  });

  it("refuses settings that cannot work", async () => {
    await expect(qemuDriver.run("status", { ...ctx, params: { qmpSocket: "relative.sock" } })).rejects.toThrow(/absolute path of the VM's QMP socket/);
    await expect(qemuDriver.run("on", { ...ctx, params: { qmpSocket: path.join(dir, "other.qmp"), launch: "/nonexistent/start.sh" } })).rejects.toThrow(/does not exist or is not executable/);
  });
});
