// Where a machine's serial console comes from, by power driver:
// - qemu (the virtual lab): the VM's serial port is a unix socket chardev (lab/lab.ts,
//   params.serialSocket) that QEMU also logs to serial.log; one client at a time.
// - ipmi: Serial-over-LAN, `ipmitool … sol activate`. ipmitool only passes keystrokes on when
//   its stdin is a terminal (with a pipe it prints output but sends nothing: tried against
//   ipmi_sim), so it runs on a pty that socat gives it. A BMC allows one SOL session: a stale
//   one (a Kiln that died mid-session) is deactivated first.
// Other drivers (Wake-on-LAN, manual, plugin, Redfish) offer no console.
import { execFile, spawn } from "node:child_process";
import net from "node:net";
import path from "node:path";
import type { HostRow } from "@/db/schema";
import { openJson } from "../crypto/secret-box";
import { getProcessEnv } from "../env";

export type ConsoleSpec =
  | { kind: "qemu"; socket: string }
  | { kind: "sol"; address: string; port: number; username: string; password: string; cipherSuite: number };

/** A live attachment to one machine's console. */
export type ConsoleLink = { write(data: Buffer): void; close(): void };
export type ConsoleEvents = { data(chunk: Buffer): void; closed(reason: string): void };

/** Refused console: a sentence for the person, and whether retrying can help (a machine that is off). */
export class ConsoleError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = "ConsoleError";
  }
}

// ipmitool goes through socat's EXEC, which splits on spaces and reads its own punctuation:
// values outside this set are refused rather than quoted.
const SAFE_ARG = /^[A-Za-z0-9._@:[\]-]+$/;

/** The console a host offers, or a sentence saying why it has none. */
export function consoleSpecOf(host: Pick<HostRow, "powerDriver" | "powerParams" | "powerSecrets" | "name">): ConsoleSpec | { none: string } {
  const p = host.powerParams ?? {};
  if (host.powerDriver === "qemu") {
    const socket = typeof p.serialSocket === "string" ? p.serialSocket : "";
    if (!path.isAbsolute(socket)) return { none: `${host.name} is a QEMU machine without a serial socket (params.serialSocket); restart the lab (npm run lab) to give it one.` };
    return { kind: "qemu", socket };
  }
  if (host.powerDriver === "ipmi") {
    const address = String(p.address ?? "");
    const username = String(p.username ?? "ADMIN");
    if (!address) return { none: `${host.name} has no BMC address (params.address), so there is no Serial-over-LAN to attach to.` };
    if (!SAFE_ARG.test(address) || !SAFE_ARG.test(username)) return { none: `The BMC address or user name of ${host.name} has characters Kiln does not pass to ipmitool's console.` };
    let password = "";
    if (host.powerSecrets) {
      try {
        password = openJson<Record<string, string>>(host.powerSecrets).password ?? "";
      } catch {
        return { none: `The stored BMC password of ${host.name} cannot be read (was KILN_SECRET_KEY changed?). Set it again.` };
      }
    }
    return { kind: "sol", address, port: Number(p.port ?? 623), username, password, cipherSuite: Number(p.cipherSuite ?? 3) };
  }
  return { none: `This machine's power driver (${host.powerDriver}) offers no console; only lab (QEMU) machines and IPMI machines (Serial-over-LAN) have one.` };
}

export function hasConsole(spec: ConsoleSpec | { none: string }): spec is ConsoleSpec {
  return !("none" in spec);
}

export function openConsoleLink(spec: ConsoleSpec, on: ConsoleEvents): Promise<ConsoleLink> {
  return spec.kind === "qemu" ? openQemu(spec.socket, on) : openSol(spec, on);
}

function openQemu(socketPath: string, on: ConsoleEvents): Promise<ConsoleLink> {
  return new Promise((resolve, reject) => {
    const sock = net.createConnection(socketPath);
    let open = false;
    sock.once("connect", () => {
      open = true;
      resolve({ write: (d) => void sock.write(d), close: () => sock.destroy() });
    });
    sock.on("data", (d) => on.data(d));
    sock.on("error", (e: NodeJS.ErrnoException) => {
      if (open) return;
      const off = e.code === "ENOENT" || e.code === "ECONNREFUSED";
      reject(new ConsoleError(off ? "The machine is off (its serial port is not there yet)." : `The machine's serial socket failed: ${e.message}`, true));
    });
    sock.on("close", () => {
      if (open) on.closed("The machine stopped (its serial port closed).");
    });
  });
}

function ipmiBase(s: Extract<ConsoleSpec, { kind: "sol" }>): string[] {
  // -E: the password comes from IPMI_PASSWORD, never the command line (lib/power/ipmi.ts).
  return ["-I", "lanplus", "-H", s.address, "-p", String(s.port), "-U", s.username, "-E", "-C", String(s.cipherSuite), "-N", "2", "-R", "2"];
}

function ipmiEnv(s: Extract<ConsoleSpec, { kind: "sol" }>): NodeJS.ProcessEnv {
  return { PATH: getProcessEnv().PATH ?? "/usr/bin:/bin", IPMI_PASSWORD: s.password } as unknown as NodeJS.ProcessEnv;
}

function deactivateSol(s: Extract<ConsoleSpec, { kind: "sol" }>): Promise<void> {
  // "already de-activated" exits non-zero; only the attempt matters.
  return new Promise((resolve) => execFile("ipmitool", [...ipmiBase(s), "sol", "deactivate"], { timeout: 15_000, env: ipmiEnv(s) }, () => resolve()));
}

const SOL_READY = "[SOL Session operational";

async function openSol(s: Extract<ConsoleSpec, { kind: "sol" }>, on: ConsoleEvents): Promise<ConsoleLink> {
  await deactivateSol(s);
  return new Promise((resolve, reject) => {
    const child = spawn("socat", ["-", `EXEC:ipmitool ${ipmiBase(s).join(" ")} sol activate,pty,setsid,ctty,rawer`], { stdio: ["pipe", "pipe", "pipe"], env: ipmiEnv(s) });
    let ready = false;
    let early = "";
    let stderr = "";
    child.stderr.on("data", (d) => (stderr = (stderr + d).slice(-2000)));
    child.stdout.on("data", (d: Buffer) => {
      if (ready) return on.data(d);
      early += d.toString("latin1");
      const at = early.indexOf(SOL_READY);
      if (at === -1) return;
      ready = true;
      const nl = early.indexOf("\n", at);
      const rest = nl === -1 ? "" : early.slice(nl + 1);
      resolve({
        write: (d) => void child.stdin.write(d),
        close: () => {
          child.kill("SIGTERM");
          void deactivateSol(s);
        },
      });
      // After the caller has taken the link (it ignores data of a link it does not hold yet).
      if (rest) setImmediate(() => on.data(Buffer.from(rest, "latin1")));
    });
    child.stdin.on("error", () => {});
    child.once("error", (e: NodeJS.ErrnoException) => {
      reject(new ConsoleError(e.code === "ENOENT" ? "socat is not installed on the Kiln server (Debian package socat); it gives ipmitool's console a terminal." : `Serial-over-LAN failed to start: ${e.message}`, false));
    });
    child.once("exit", () => {
      const said = `${early}\n${stderr}`.replace(/\r/g, "").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("tcgetattr"));
      if (ready) return on.closed("The Serial-over-LAN session ended.");
      const line = said.find((l) => /error|unable|refused|already|insufficient|not|fail/i.test(l)) ?? said[0] ?? "ipmitool exited";
      const login = /RAKP|password|Unauthorized|Unable to establish/i.test(line);
      reject(new ConsoleError(login ? `The BMC at ${s.address} refused the Serial-over-LAN login: ${line}` : `Serial-over-LAN with ${s.address} did not start: ${line}`, !login));
    });
  });
}
