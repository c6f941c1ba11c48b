// OpenIPMI's BMC simulator (Debian `openipmi`) on a loopback UDP port, with a chassis
// control script that keeps the power state in a file and logs every command, so tests
// can see what a real BMC would have been told. Recipe: ../shared/LAB.md.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import dgram from "node:dgram";

export type IpmiSim = { port: number; username: string; password: string; commands: () => string[]; power: () => "on" | "off"; stop: () => Promise<void> };

async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/**
 * solTcpPort: the machine's serial port for Serial-over-LAN, a TCP server on 127.0.0.1 that
 * ipmi_sim connects to (lan.conf `sol "tcp:…"`, ipmi_lan(5)); as for a QEMU serial port.
 */
export async function startIpmiSim(opts: { solTcpPort?: number } = {}): Promise<IpmiSim> {
  if (!existsSync("/usr/bin/ipmi_sim")) throw new Error("ipmi_sim is missing: run `bash scripts/ensure-deps.sh` (it installs openipmi and ipmitool)");
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-ipmi-"));
  const port = await freeUdpPort();
  const password = "sim-" + Math.random().toString(36).slice(2, 10);
  const script = path.join(dir, "chassis.sh");
  // ipmi_sim calls: chassis.sh get power|boot …  /  chassis.sh set power 0|1 | reset 1 | boot pxe
  await fs.writeFile(
    script,
    `#!/bin/sh
D=${dir}
op=$1; shift
case "$op" in
  get) for p in "$@"; do case "$p" in power) echo "power:$(cat $D/power 2>/dev/null || echo 0)";; boot) echo "boot:default";; esac; done;;
  set) while [ $# -gt 0 ]; do
         case "$1" in power) echo "$2" > $D/power;; esac
         echo "$1 $2" >> $D/commands
         shift 2
       done;;
esac
`,
    { mode: 0o755 },
  );
  await fs.writeFile(
    path.join(dir, "lan.conf"),
    `name "kiln-test"
set_working_mc 0x20
  startlan 1
    addr 127.0.0.1 ${port}
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user none md2 md5 straight
    allowed_auths_operator none md2 md5 straight
    allowed_auths_admin none md2 md5 straight
    guid a123456789abcdefa123456789abcdef
  endlan
  chassis_control "${script}"
${opts.solTcpPort ? `  sol "tcp:127.0.0.1:${opts.solTcpPort}" 115200\n` : ""}  startnow true
  user 2 true "admin" "${password}" admin 10 none md2 md5 straight
`,
  );
  await fs.writeFile(path.join(dir, "bmc.emu"), "mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr\nmc_enable 0x20\n");
  await fs.mkdir(path.join(dir, "state"));
  const stdin = await fs.open("/dev/null", "r");
  // -n: no console; with a non-TTY stdin it would abort otherwise.
  const child: ChildProcess = spawn("ipmi_sim", ["-c", path.join(dir, "lan.conf"), "-f", path.join(dir, "bmc.emu"), "-s", path.join(dir, "state"), "-n"], { stdio: [stdin.fd, "ignore", "pipe"] });
  await stdin.close();
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  await new Promise((r) => setTimeout(r, 300));
  if (child.exitCode !== null) throw new Error(`ipmi_sim exited: ${stderr}`);
  const read = (f: string) => {
    try {
      return readFileSync(path.join(dir, f), "utf8");
    } catch {
      return "";
    }
  };
  return {
    port,
    username: "admin",
    password,
    commands: () => read("commands").split("\n").filter(Boolean),
    power: () => (read("power").trim() === "1" ? "on" : "off"),
    stop: async () => {
      child.kill("SIGTERM");
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once("exit", r)));
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
