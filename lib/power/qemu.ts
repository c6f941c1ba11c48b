// The virtual lab's machines (npm run lab): QEMU VMs controlled through their QMP socket.
// params: { qmpSocket: "/path/vm.qmp", launch: "/path/start-vm.sh" } — "on" runs the
// launch script when the VM is not running (it starts QEMU with that QMP socket).
import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import net from "node:net";
import path from "node:path";
import { PowerError, type PowerAction, type PowerContext, type PowerDriver, type PowerResult } from "./types";

/** One QMP command over the VM's monitor socket; null when no VM is listening. */
export async function qmp(socketPath: string, command: string, args?: Record<string, unknown>, timeoutMs = 5000): Promise<unknown | null> {
  return new Promise((resolve, reject) => {
    const sock = net.createConnection(socketPath);
    let buf = "";
    let stage = 0;
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new PowerError(`The VM's monitor (${socketPath}) did not answer within ${timeoutMs / 1000} s.`));
    }, timeoutMs);
    sock.on("error", (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      // No socket, nobody listening, or a VM that is exiting right now (the monitor closes
      // mid-greeting): all mean "not running".
      if (e.code === "ENOENT" || e.code === "ECONNREFUSED" || e.code === "ECONNRESET" || e.code === "EPIPE") resolve(null);
      else reject(new PowerError(`The VM's monitor failed: ${e.message}`));
    });
    sock.on("data", (d) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        const msg = JSON.parse(line) as { QMP?: unknown; return?: unknown; error?: { desc: string }; event?: string };
        if (msg.event) continue;
        if (stage === 0 && msg.QMP) {
          stage = 1;
          sock.write(JSON.stringify({ execute: "qmp_capabilities" }) + "\n");
        } else if (stage === 1) {
          stage = 2;
          sock.write(JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}) }) + "\n");
        } else if (stage === 2) {
          clearTimeout(timer);
          sock.end();
          if (msg.error) reject(new PowerError(`QEMU refused ${command}: ${msg.error.desc}`));
          else resolve(msg.return ?? {});
        }
      }
    });
    // "quit" closes the socket before answering.
    sock.on("close", () => {
      clearTimeout(timer);
      if (stage === 2 && command === "quit") resolve({});
    });
  });
}

export const qemuDriver: PowerDriver = {
  name: "qemu",
  canPowerOff: true,
  reportsState: true,
  networkBoot: "always",
  async run(action: PowerAction, ctx: PowerContext): Promise<PowerResult> {
    const socketPath = String(ctx.params.qmpSocket ?? "");
    if (!path.isAbsolute(socketPath)) throw new PowerError("The qemu driver needs the absolute path of the VM's QMP socket (params.qmpSocket).");
    const status = (await qmp(socketPath, "query-status")) as { status?: string } | null;
    const running = status?.status === "running";
    if (action === "status") return { state: running ? "on" : "off", message: status ? `VM is ${status.status}` : "VM is not running" };
    if (action === "off") {
      if (status) await qmp(socketPath, "quit");
      ctx.log(`qemu: stopped the VM of ${ctx.host.name}`);
      return { state: "off", message: "VM stopped." };
    }
    if (status && action === "cycle") {
      await qmp(socketPath, "system_reset");
      ctx.log(`qemu: reset the VM of ${ctx.host.name}`);
      return { state: "on", message: "VM reset." };
    }
    if (status) return { state: "on", message: "VM already running." };
    const launch = String(ctx.params.launch ?? "");
    if (!path.isAbsolute(launch)) throw new PowerError("The qemu driver needs the absolute path of the VM's launch script (params.launch).");
    try {
      accessSync(launch, constants.X_OK);
    } catch {
      throw new PowerError(`The VM launch script ${launch} does not exist or is not executable.`);
    }
    const child = spawn(launch, [], { detached: true, stdio: "ignore" });
    child.unref();
    ctx.log(`qemu: started the VM of ${ctx.host.name} (${launch})`);
    return { state: "on", message: "VM started." };
  },
};
