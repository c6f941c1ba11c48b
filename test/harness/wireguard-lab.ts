// A small WireGuard lab in network namespaces, for the tunnel tests (lib/vpn/gateway.int.test.ts
// and the e2e "done when" spec): a client, a gateway and a machines namespace. client ↔ gateway
// is the "internet" the tunnel runs over (10.77.0.0/30); gateway ↔ machines is the lab network
// (10.77.1.0/24), the machines routed back through the gateway. wireguard-go (Debian's) runs in
// the client and the gateway; the gateway is configured by scripts/vpn-gateway-sync.sh (its wg
// and nft inside the gateway namespace), the client from a WireGuard file as wg-quick would.
//
// Every address exists only inside namespaces made here. Needs root and /dev/net/tun:
// wireguardLabSkipReason() says why not. stop() removes everything, whatever state it is in.
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { getProcessEnv } from "../../lib/env";
import { stripWgQuickLines } from "../../lib/vpn/wireguard";

export const LAB_UNDERLAY = { gateway: "10.77.0.1", client: "10.77.0.2" } as const;
export const LAB_MACHINES_NET = { cidr: "10.77.1.0/24", gateway: "10.77.1.1" } as const;
export const LAB_WG_PORT = 51820;

// Both vitest and Playwright run from the repository root.
const SYNC_SCRIPT = path.resolve("scripts/vpn-gateway-sync.sh");

/** Why the tunnel cannot be built on this machine, or null when it can. */
export function wireguardLabSkipReason(): string | null {
  if (process.getuid?.() !== 0) return "not root (network namespaces need it)";
  if (!existsSync("/dev/net/tun")) return "/dev/net/tun is missing (wireguard-go needs it)";
  return null;
}

export type WireguardLabOptions = {
  /** The gateway's address on its WireGuard interface, with the VPN range's prefix (e.g. 10.250.0.1/24). */
  gatewayTunnelCidr: string;
  /** Machine addresses on the lab network (inside LAB_MACHINES_NET). */
  machines: string[];
  /** Names the client resolves (its /etc/hosts inside the namespace), e.g. the endpoint's host name. */
  clientHosts?: Record<string, string>;
};

export type SyncOptions = {
  kilnUrl: string;
  token: string;
  gatewayPrivateKey: string;
  args?: string[];
  /** Separate state directories act as separate gateways' memories of what they applied. */
  stateName?: string;
};

export type WireguardLab = {
  ns: { client: string; gateway: string; machines: string };
  ifs: { clientWg: string; gatewayWg: string };
  workDir: string;
  inNs(ns: string, cmd: string, ...args: string[]): string;
  ipIn(ns: string, ...args: string[]): string;
  /** From the client namespace. */
  canPing(address: string, count?: number): boolean;
  /** scripts/vpn-gateway-sync.sh as the gateway runs it; its stdout, trimmed. Asynchronous (the answers may come from this process). */
  runSync(opts: SyncOptions): Promise<string>;
  /** Packets the gateway's final "anything else from the VPN" rule dropped so far. */
  dropCount(vpnRange: string): number;
  /** The client's interface from a WireGuard file (Address and AllowedIPs routes by hand, as wg-quick). */
  configureClient(conf: string): Promise<void>;
  /** Seconds since the epoch of the client's latest handshake (0: none). */
  latestHandshake(): number;
  /** A process stopped with the lab. */
  track(child: ChildProcess): ChildProcess;
  stop(): Promise<void>;
};

function run(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { input, timeout: 10_000, stdio: ["pipe", "pipe", "pipe"] }).toString();
}

export async function startWireguardLab(opts: WireguardLabOptions): Promise<WireguardLab> {
  const id = randomBytes(3).toString("hex");
  const ns = { client: `kiln-vpn-c-${id}`, gateway: `kiln-vpn-g-${id}`, machines: `kiln-vpn-m-${id}` };
  const ifs = { clientWg: `kvc${id}`, gatewayWg: `kvg${id}` };
  const processes: ChildProcess[] = [];
  const createdNs: string[] = [];
  const workDir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-vpn-tunnel-"));
  const clientEtc = `/etc/netns/${ns.client}`;

  const inNs = (n: string, cmd: string, ...args: string[]) => run("ip", ["netns", "exec", n, cmd, ...args]);
  const ipIn = (n: string, ...args: string[]) => run("ip", ["-n", n, ...args]);

  const track = (child: ChildProcess) => {
    processes.push(child);
    return child;
  };

  /** wireguard-go in the foreground (so its pid is ours to stop), until its interface shows. */
  async function startWireguardGo(n: string, ifname: string): Promise<void> {
    const child = track(
      spawn("ip", ["netns", "exec", n, "wireguard-go", ifname], {
        env: { ...getProcessEnv(), WG_PROCESS_FOREGROUND: "1", WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD: "1", LOG_LEVEL: "error" },
        stdio: ["ignore", "ignore", "pipe"],
      }),
    );
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    for (let i = 0; i < 50; i++) {
      if (child.exitCode !== null) throw new Error(`wireguard-go ${ifname} exited (${child.exitCode}): ${stderr}`);
      try {
        ipIn(n, "link", "show", ifname);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error(`wireguard-go did not create ${ifname} in 5 s: ${stderr}`);
  }

  async function stop(): Promise<void> {
    for (const child of processes) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    for (const n of createdNs) {
      try {
        run("ip", ["netns", "del", n]);
      } catch (e) {
        console.warn(`could not delete netns ${n}: ${String(e)}`);
      }
    }
    for (const ifname of Object.values(ifs)) await fs.rm(`/var/run/wireguard/${ifname}.sock`, { force: true });
    await fs.rm(clientEtc, { recursive: true, force: true });
    await fs.rm(workDir, { recursive: true, force: true });
  }

  try {
    for (const n of Object.values(ns)) {
      run("ip", ["netns", "add", n]);
      createdNs.push(n);
      ipIn(n, "link", "set", "lo", "up");
    }
    if (opts.clientHosts) {
      // `ip netns exec` bind-mounts /etc/netns/<name>/hosts over /etc/hosts for what runs inside.
      await fs.mkdir(clientEtc, { recursive: true });
      const lines = Object.entries(opts.clientHosts).map(([name, address]) => `${address}\t${name}`);
      await fs.writeFile(path.join(clientEtc, "hosts"), `127.0.0.1\tlocalhost\n${lines.join("\n")}\n`);
    }
    // client ↔ gateway: the "internet" the tunnel runs over.
    ipIn(ns.client, "link", "add", `kvcg${id}`, "type", "veth", "peer", "name", `kvgc${id}`, "netns", ns.gateway);
    ipIn(ns.client, "addr", "add", `${LAB_UNDERLAY.client}/30`, "dev", `kvcg${id}`);
    ipIn(ns.client, "link", "set", `kvcg${id}`, "up");
    ipIn(ns.gateway, "addr", "add", `${LAB_UNDERLAY.gateway}/30`, "dev", `kvgc${id}`);
    ipIn(ns.gateway, "link", "set", `kvgc${id}`, "up");
    // gateway ↔ machines: the machine addresses on the lab side, routed back through the gateway.
    ipIn(ns.gateway, "link", "add", `kvgm${id}`, "type", "veth", "peer", "name", `kvmg${id}`, "netns", ns.machines);
    ipIn(ns.gateway, "addr", "add", `${LAB_MACHINES_NET.gateway}/24`, "dev", `kvgm${id}`);
    ipIn(ns.gateway, "link", "set", `kvgm${id}`, "up");
    for (const address of opts.machines) ipIn(ns.machines, "addr", "add", `${address}/24`, "dev", `kvmg${id}`);
    ipIn(ns.machines, "link", "set", `kvmg${id}`, "up");
    ipIn(ns.machines, "route", "add", "default", "via", LAB_MACHINES_NET.gateway);
    inNs(ns.gateway, "sysctl", "-qw", "net.ipv4.ip_forward=1");
    await startWireguardGo(ns.gateway, ifs.gatewayWg);
    ipIn(ns.gateway, "addr", "add", opts.gatewayTunnelCidr, "dev", ifs.gatewayWg);
    ipIn(ns.gateway, "link", "set", ifs.gatewayWg, "up");
    await startWireguardGo(ns.client, ifs.clientWg);
  } catch (e) {
    await stop();
    throw e;
  }

  return {
    ns,
    ifs,
    workDir,
    inNs,
    ipIn,
    track,
    stop,
    canPing(address, count = 2) {
      try {
        inNs(ns.client, "ping", "-n", "-q", "-c", String(count), "-i", "0.3", "-W", "1", address);
        return true;
      } catch {
        return false;
      }
    },
    async runSync({ kilnUrl, token, gatewayPrivateKey, args = [], stateName = "state" }) {
      await fs.writeFile(path.join(workDir, "interface.conf"), `[Interface]\nPrivateKey = ${gatewayPrivateKey}\nListenPort = ${LAB_WG_PORT}\n`, { mode: 0o600 });
      await fs.writeFile(path.join(workDir, "token"), `${token}\n`, { mode: 0o600 });
      const { stdout } = await promisify(execFile)("bash", [SYNC_SCRIPT, ...args], {
        timeout: 20_000,
        env: {
          PATH: getProcessEnv().PATH,
          KILN_URL: kilnUrl,
          KILN_VPN_TOKEN_FILE: path.join(workDir, "token"),
          KILN_VPN_INTERFACE: ifs.gatewayWg,
          KILN_VPN_INTERFACE_CONF: path.join(workDir, "interface.conf"),
          KILN_VPN_STATE_DIR: path.join(workDir, stateName),
          KILN_VPN_RUN_DIR: path.join(workDir, `${stateName}-run`),
          WG: `ip netns exec ${ns.gateway} wg`,
          NFT: `ip netns exec ${ns.gateway} nft`,
        } as unknown as NodeJS.ProcessEnv,
      });
      return stdout.trim();
    },
    dropCount(vpnRange) {
      const listing = inNs(ns.gateway, "nft", "list", "chain", "inet", "kiln_vpn", "forward");
      const m = new RegExp(`ip saddr ${vpnRange.replace(/[./]/g, "\\$&")} counter packets (\\d+)`).exec(listing);
      if (!m) throw new Error(`no drop rule for ${vpnRange} in:\n${listing}`);
      return Number(m[1]);
    },
    async configureClient(conf) {
      const file = path.join(workDir, "client.conf");
      await fs.writeFile(file, stripWgQuickLines(conf), { mode: 0o600 });
      inNs(ns.client, "wg", "setconf", ifs.clientWg, file);
      const address = /^Address = (\S+)$/m.exec(conf)?.[1];
      if (!address) throw new Error(`no Address line in the WireGuard file:\n${conf}`);
      ipIn(ns.client, "addr", "add", address, "dev", ifs.clientWg);
      ipIn(ns.client, "link", "set", ifs.clientWg, "up");
      for (const cidr of /^AllowedIPs = (.+)$/m.exec(conf)![1]!.split(",").map((s) => s.trim())) {
        ipIn(ns.client, "route", "add", cidr, "dev", ifs.clientWg);
      }
    },
    latestHandshake() {
      return Number(inNs(ns.client, "wg", "show", ifs.clientWg, "latest-handshakes").trim().split(/\s+/)[1] ?? 0);
    },
  };
}
