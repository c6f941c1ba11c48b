// A private lab network for tests: a network namespace holding a bridge (the boot network),
// Kiln reachable at the bridge's address, tap devices for QEMU machines, dnsmasq started from
// a given configuration file, and — in a second namespace joined to the bridge by a veth
// pair, as another machine on the lab network would be — the lab's "existing" DHCP server
// (busybox udhcpd). Nothing gets an address in the host's own namespace: Kiln listens on
// 127.0.0.1 there, and a relay carries each connection from the namespace's address over a
// UNIX socket (which works across namespaces) to that port.
//
// Needs root (ip netns, tap devices). Names are unique per process (kiln-lab-<pid>-<n>), and
// namespaces left by a killed run whose process is gone are removed at the next start.
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { IPXE_DIR } from "@/lib/sites/dhcp-snippets";
import { findBusybox } from "./qemu";

const execFileAsync = promisify(execFile);
const NS_PREFIX = "kiln-lab-";

/** The lab's IPv6 prefix, for its router advertisements only. */
const LAB_IPV6_PREFIX = "fd00:213::";

/** The boot network: a /24 that exists only inside the namespace. */
export const LAB_SUBNET = { network: "10.213.0.0", gateway: "10.213.0.1", labDhcp: "10.213.0.2", rangeStart: "10.213.0.100", rangeEnd: "10.213.0.200", netmask: "255.255.255.0" } as const;

function ip(args: string[]): Promise<{ stdout: string }> {
  return execFileAsync("ip", args);
}

/** Why this machine cannot build a lab network, or null when it can (root, ip netns, /dev/net/tun). */
export async function labNetworkUnavailable(): Promise<string | null> {
  if (process.getuid?.() !== 0) return "network namespaces need root";
  if (!existsSync("/dev/net/tun")) return "/dev/net/tun is missing (no tap devices)";
  const name = `${NS_PREFIX}${process.pid}-probe`;
  try {
    await ip(["netns", "add", name]);
  } catch (e) {
    return `the kernel refused a network namespace (${((e as { stderr?: string }).stderr ?? String(e)).trim()})`;
  }
  await ip(["netns", "del", name]).catch(() => {});
  return null;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes namespaces an earlier run of this harness left behind when its process died. */
async function sweepStale(): Promise<void> {
  const { stdout } = await ip(["netns", "list"]).catch(() => ({ stdout: "" }));
  for (const line of stdout.split("\n")) {
    const name = line.split(" ")[0] ?? "";
    const owner = new RegExp(`^${NS_PREFIX}(\\d+)-`).exec(name)?.[1];
    if (!owner || pidAlive(Number(owner))) continue;
    const pids = (await ip(["netns", "pids", name]).catch(() => ({ stdout: "" }))).stdout.split(/\s+/).filter(Boolean).map(Number);
    for (const p of pids) {
      try {
        process.kill(p, "SIGKILL");
      } catch {} // gone since the listing
    }
    await ip(["netns", "del", name]).catch(() => {});
  }
}

export type LabProcess = { name: string; pid: number; output: () => string; stop: () => Promise<void> };

export type LabNetwork = {
  ns: string;
  /** Kiln as machines on the boot network reach it. */
  kilnUrl: string;
  dir: string;
  /** Creates a tap device on the bridge for one QEMU machine (QEMU must run inside `ns`). */
  addTap(): Promise<string>;
  /** dnsmasq with exactly `conf` as its configuration file; the test's own needs go on its command line. */
  startDnsmasq(conf: string): Promise<LabProcess>;
  /** The lab's existing DHCP server (addresses only, no boot information), on another "machine". */
  startLabDhcp(): Promise<LabProcess>;
  /**
   * A DHCP request from a throw-away client (busybox udhcpc) on the boot network, sent with the
   * given options as firmware would send them; answers what the server offered (udhcpc's
   * variables: `boot_file`, `siaddr`, `bootfile` for option 67…), or null when nothing answered.
   */
  dhcpProbe(opts: { vendorClass: string; options: string[] }): Promise<Record<string, string> | null>;
  /** Fetches a file over TFTP from `server`, as a machine on the boot network would. */
  tftpGet(server: string, file: string): Promise<Buffer>;
  close(): Promise<void>;
};

let counter = 0;

export async function startLabNetwork(opts: { kilnPort: number }): Promise<LabNetwork> {
  await sweepStale();
  const id = `${NS_PREFIX}${process.pid}-${++counter}`;
  const ns = id;
  const dhcpNs = `${id}-dhcp`;
  const probeNs = `${id}-probe`;
  const namespaces: string[] = [];
  const procs: LabProcess[] = [];
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-lab-net-"));
  // dnsmasq drops root for its TFTP reads: its files must be readable by anyone.
  await fs.chmod(dir, 0o755);
  const socketPath = path.join(dir, "kiln.sock");
  let relay: net.Server | null = null;
  let taps = 0;
  let dnsmasqs = 0;
  const inNs = (name: string, args: string[]) => execFileAsync("ip", ["netns", "exec", name, ...args]);

  // A test process that exits without afterAll (process.exit) leaves no namespace behind, and
  // its servers are killed; one killed by a signal runs no handler: the next start sweeps it.
  const onExit = () => {
    for (const p of procs) {
      try {
        process.kill(-p.pid, "SIGKILL");
      } catch {}
    }
    for (const n of namespaces) {
      try {
        execFileSync("ip", ["netns", "del", n], { stdio: "ignore" });
      } catch {}
    }
  };
  process.once("exit", onExit);

  const startProcess = (name: string, netns: string, args: string[], ready: (out: string) => boolean, timeoutMs = 10_000): Promise<LabProcess> =>
    new Promise((resolve, reject) => {
      // `ip netns exec` execs the command: the child's pid is the server's. Its own process
      // group, so per-connection children (socat's forks) go with it.
      const child: ChildProcess = spawn("ip", ["netns", "exec", netns, ...args], { stdio: ["ignore", "pipe", "pipe"], detached: true });
      let out = "";
      const onData = (d: Buffer) => {
        out = (out + d.toString()).slice(-200_000);
        if (ready(out)) finish();
      };
      child.stdout!.on("data", onData);
      child.stderr!.on("data", onData);
      const exited = new Promise<void>((r) => child.once("exit", () => r()));
      const proc: LabProcess = {
        name,
        pid: child.pid!,
        output: () => out,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) {
            try {
              process.kill(-child.pid!, "SIGTERM");
            } catch {}
            await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
            if (child.exitCode === null && child.signalCode === null) {
              try {
                process.kill(-child.pid!, "SIGKILL");
              } catch {}
              await exited;
            }
          }
          procs.splice(procs.indexOf(proc), 1);
        },
      };
      procs.push(proc);
      let settled = false;
      const timer = setTimeout(() => fail(new Error(`${name} did not become ready within ${timeoutMs} ms:\n${out}`)), timeoutMs);
      const finish = () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(proc);
      };
      const fail = (e: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        void proc.stop().then(() => reject(e));
      };
      child.once("exit", (code, signal) => fail(new Error(`${name} exited (${code ?? signal}) before it was ready:\n${out}`)));
      child.once("error", (e) => fail(e));
      if (ready(out)) finish();
    });

  const network: LabNetwork = {
    ns,
    kilnUrl: `http://${LAB_SUBNET.gateway}`,
    dir,
    async addTap() {
      const tap = `tap${taps++}`;
      await inNs(ns, ["ip", "tuntap", "add", tap, "mode", "tap"]);
      await inNs(ns, ["ip", "link", "set", tap, "master", "br0", "up"]);
      return tap;
    },
    async startDnsmasq(conf) {
      const n = dnsmasqs++;
      const confFile = path.join(dir, `dnsmasq-${n}.conf`);
      await fs.writeFile(confFile, conf + "\n");
      return startProcess(
        `dnsmasq (${path.basename(confFile)})`,
        ns,
        [
          "dnsmasq",
          `--conf-file=${confFile}`,
          "--keep-in-foreground",
          "--log-facility=-",
          "--log-dhcp",
          `--pid-file=${path.join(dir, `dnsmasq-${n}.pid`)}`,
          `--dhcp-leasefile=${path.join(dir, `dnsmasq-${n}.leases`)}`,
          "--interface=br0",
        ],
        (out) => /DHCP, (IP range|proxy on subnet)/.test(out) && /TFTP root is/.test(out),
      );
    },
    async startLabDhcp() {
      const conf = path.join(dir, "udhcpd.conf");
      const leases = path.join(dir, "udhcpd.leases");
      await fs.writeFile(leases, "");
      await fs.writeFile(
        conf,
        [
          `start ${LAB_SUBNET.rangeStart}`,
          `end ${LAB_SUBNET.rangeEnd}`,
          "interface eth0",
          `lease_file ${leases}`,
          `pidfile ${path.join(dir, "udhcpd.pid")}`,
          `option subnet ${LAB_SUBNET.netmask}`,
          `option router ${LAB_SUBNET.gateway}`,
          "option lease 3600",
          "",
        ].join("\n"),
      );
      return startProcess("udhcpd (the lab's DHCP server)", dhcpNs, [findBusybox(), "udhcpd", "-f", conf], (out) => out.includes("started"));
    },
    async dhcpProbe(p) {
      // As a DHCP client's script does: the interface takes the offered address (so a TFTP
      // fetch can follow), and the boot fields are printed for the test.
      const script = path.join(dir, "udhcpc-script.sh");
      await fs.writeFile(
        script,
        [
          "#!/bin/sh",
          'case "$1" in',
          '  deconfig) ip addr flush dev "$interface" ;;',
          '  bound) ip addr add "$ip/$subnet" dev "$interface"; for v in ip siaddr serverid boot_file bootfile; do eval "echo DHCP $v=\\$$v"; done ;;',
          "esac",
          "exit 0",
          "",
        ].join("\n"),
        { mode: 0o755 },
      );
      const args = ["-i", "eth0", "-f", "-q", "-n", "-t", "3", "-T", "1", "-s", script, "-V", p.vendorClass, ...p.options.flatMap((o) => ["-x", o])];
      // The first exchange on a fresh bridge is sometimes lost (dnsmasq offers, udhcpc never
      // sees it); a client retries, and so does the probe.
      let stdout = "";
      for (let attempt = 0; attempt < 3 && !stdout.includes("DHCP ip="); attempt++) {
        stdout = (await inNs(probeNs, [findBusybox(), "udhcpc", ...args]).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? "" }))).stdout;
      }
      const vars = Object.fromEntries(
        stdout
          .split("\n")
          .filter((l) => l.startsWith("DHCP "))
          .map((l) => {
            const [k, ...v] = l.slice(5).split("=");
            return [k!, v.join("=")];
          })
          .filter(([, v]) => v !== ""),
      );
      return Object.keys(vars).length ? vars : null;
    },
    async tftpGet(server, file) {
      const out = path.join(dir, `tftp-${file}`);
      await inNs(probeNs, ["curl", "-sS", "--max-time", "10", "-o", out, `tftp://${server}/${file}`]);
      return fs.readFile(out);
    },
    async close() {
      process.removeListener("exit", onExit);
      for (const p of [...procs].reverse()) await p.stop();
      await new Promise<void>((r) => (relay ? relay.close(() => r()) : r()));
      for (const n of namespaces.reverse()) await ip(["netns", "del", n]).catch(() => {});
      await fs.rm(dir, { recursive: true, force: true });
    },
  };

  try {
    for (const n of [ns, dhcpNs, probeNs]) {
      await ip(["netns", "add", n]);
      namespaces.push(n);
      await inNs(n, ["ip", "link", "set", "lo", "up"]);
    }
    // Forwarding from the start (no STP listening/learning delay): firmware DHCPs at once.
    await inNs(ns, ["ip", "link", "add", "br0", "type", "bridge", "stp_state", "0", "forward_delay", "0"]);
    await inNs(ns, ["ip", "addr", "add", `${LAB_SUBNET.gateway}/24`, "dev", "br0"]);
    await inNs(ns, ["ip", "link", "set", "br0", "up"]);
    // The other machines on the boot network: the lab's DHCP server and a probing client.
    // The probe has no address of its own: udhcpc ignores offers while one is set.
    for (const [peer, port, address] of [
      [dhcpNs, "veth-dhcp", LAB_SUBNET.labDhcp],
      [probeNs, "veth-probe", null],
    ] as const) {
      await ip(["link", "add", port, "netns", ns, "type", "veth", "peer", "name", "eth0", "netns", peer]);
      await inNs(ns, ["ip", "link", "set", port, "master", "br0", "up"]);
      if (address) await inNs(peer, ["ip", "addr", "add", `${address}/24`, "dev", "eth0"]);
      await inNs(peer, ["ip", "link", "set", "eth0", "up"]);
    }

    // The lab's IPv6 router, as most networks have one: Debian 12's iPXE (2019) waits for IPv6
    // autoconfiguration each time it configures a NIC, about 13 s where no router answers its
    // solicitations (docs/dhcp.md). Router advertisements only; nothing else of IPv6 is used.
    await inNs(ns, ["ip", "-6", "addr", "add", `${LAB_IPV6_PREFIX}1/64`, "dev", "br0", "nodad"]);
    await startProcess(
      "dnsmasq (the lab's IPv6 router advertisements)",
      ns,
      ["dnsmasq", "--conf-file=/dev/null", "--keep-in-foreground", "--log-facility=-", "--port=0", "--enable-ra", "--dhcp-range=::,constructor:br0,ra-only", "--interface=br0", `--pid-file=${path.join(dir, "ra.pid")}`, `--dhcp-leasefile=${path.join(dir, "ra.leases")}`],
      (out) => out.includes("IPv6 router advertisement enabled"),
    );

    // Kiln at the gateway's address: socat in the namespace → UNIX socket → 127.0.0.1:kilnPort.
    relay = net.createServer((client) => {
      const upstream = net.connect(opts.kilnPort, "127.0.0.1");
      client.pipe(upstream).pipe(client);
      client.on("error", () => upstream.destroy());
      upstream.on("error", () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => relay!.once("error", reject).listen(socketPath, () => resolve()));
    await startProcess("socat (Kiln's address on the boot network)", ns, ["socat", "-d", "-d", `TCP-LISTEN:80,bind=${LAB_SUBNET.gateway},fork,reuseaddr`, `UNIX-CONNECT:${socketPath}`], (out) => out.includes("listening on"));
    return network;
  } catch (e) {
    await network.close();
    throw e;
  }
}

/** dnsmasq's record of the TFTP transfers it completed ("sent <file> to <address>"). */
export function tftpSent(dnsmasqOutput: string): string[] {
  return [...dnsmasqOutput.matchAll(/dnsmasq-tftp\[\d+\]: sent (\S+) to/g)].map((m) => path.basename(m[1]!));
}

/** The Debian package's copy of an iPXE binary, to compare what TFTP delivered with. */
export function ipxeBinary(name: string): Buffer {
  return readFileSync(path.join(IPXE_DIR, name));
}
