// Real machines for the deploy specs: QEMU VMs (SeaBIOS or OVMF with their iPXE NIC ROM)
// registered in Kiln with the `qemu` power driver, so Kiln itself powers them on. Each has a
// launch script, a QMP socket, a raw disk and a serial log in its own directory. The guest
// reaches Kiln — and nothing else — through slirp's guestfwd at 10.0.2.100:80 (restrict=on).
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { getProcessEnv } from "../../lib/env";
import { qmp } from "../../lib/power/qemu";
import { labMachineFiles, writeLabMachine, type LabMachine as LabVm } from "../../lab/lab";
import { apiOk } from "./api";

export type LabMachine = LabVm & {
  serial(): string;
  /** Quits the VM (QMP), if it runs. */
  stop(): Promise<void>;
  running(): Promise<boolean>;
  remove(): Promise<void>;
};

/**
 * A machine like `npm run lab` makes (lab/lab.ts writes its launch script), in a temp
 * directory. `port` is where the guest's HTTP connections go: Kiln, a relay in front of it, or
 * a closed port for a machine whose network boot never reaches Kiln.
 */
export async function createLabMachine(p: { name: string; mac: string; port: number; uefi?: boolean; diskMb?: number; memoryMb?: number; sshPort?: number }): Promise<LabMachine> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-vm-"));
  const vm: LabVm = {
    name: p.name,
    mac: p.mac,
    ...labMachineFiles(dir),
    uefi: p.uefi === true,
    memoryMb: p.memoryMb ?? 384,
    diskBytes: (p.diskMb ?? 64) * 1024 * 1024,
    ...(p.sshPort ? { sshPort: p.sshPort } : {}),
  };
  await writeLabMachine(vm, { host: "127.0.0.1", port: p.port });
  const read = (f: string) => (existsSync(f) ? readFileSync(f, "utf8") : "");
  const machine: LabMachine = {
    ...vm,
    serial: () => read(vm.serialLog) + read(vm.qemuLog),
    running: async () => ((await qmp(vm.qmpSocket, "query-status").catch(() => null)) as { status?: string } | null)?.status !== undefined,
    stop: async () => {
      await qmp(vm.qmpSocket, "quit").catch(() => null);
    },
    remove: async () => {
      await machine.stop();
      if (!getProcessEnv().KILN_E2E_KEEP) await fs.rm(dir, { recursive: true, force: true });
    },
  };
  return machine;
}

/** Registers the machine as a host in `poolId` with the qemu power driver; returns its id. */
export async function registerLabMachine(adminToken: string, m: LabMachine, poolId: string): Promise<{ id: string; name: string }> {
  return apiOk(adminToken, "POST", "/api/v1/hosts", {
    name: m.name,
    poolId,
    interfaces: [{ mac: m.mac, isPxe: true }],
    power: { driver: "qemu", params: { qmpSocket: m.qmpSocket, launch: m.launch, serialSocket: m.serialSocket } },
  }, 201);
}

export function sha256Of(buf: Buffer): string {
  return createHash("sha256").update(buf).digest("hex");
}

/** The first `length` bytes of a file (the part of a disk an image covers). */
export async function headOf(file: string, length: number): Promise<Buffer> {
  const fh = await fs.open(file, "r");
  try {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await fh.read(buf, 0, length, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/**
 * A TCP relay between the machines and Kiln that can hold an image download part-way: when a
 * connection that asked for /images/…/blob has carried `afterBytes` towards the machine, the
 * relay stops reading from Kiln (the transfer stalls, nothing is lost or invented) and calls
 * `onHold` — the moment a test restarts Kiln's web process. It does not answer anything itself.
 */
export async function startRelay(kilnPort: number, hold?: { afterBytes: number; onHold: () => void }) {
  let held = false;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((guest) => {
    const kiln = net.connect(kilnPort, "127.0.0.1");
    sockets.add(guest).add(kiln);
    let isBlob = false;
    let down = 0;
    guest.on("data", (d) => {
      if (!isBlob && /^GET \/images\/[^ ]+\/blob/m.test(d.toString("latin1"))) isBlob = true;
      kiln.write(d);
    });
    kiln.on("data", (d) => {
      guest.write(d);
      down += d.length;
      if (hold && !held && isBlob && down >= hold.afterBytes) {
        held = true;
        kiln.pause();
        hold.onHold();
      }
    });
    const end = () => {
      guest.destroy();
      kiln.destroy();
      sockets.delete(guest);
      sockets.delete(kiln);
    };
    guest.on("close", end).on("error", end);
    kiln.on("close", end).on("error", end);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    get held() {
      return held;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** Is `pid` alive? */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
