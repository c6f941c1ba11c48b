// The lab gateway's side of the VPN: its WireGuard peers and its nftables forwarding rules,
// rendered from Kiln's devices and leases. The gateway pulls them (GET /api/v1/vpn/gateway/*,
// scripts/vpn-gateway-sync.sh) or the worker writes them to KILN_VPN_GATEWAY_DIR
// (workers/jobs/write-vpn-gateway.ts); docs/lab-access.md describes the gateway's setup.
//
// Output is deterministic (sorted, no timestamps) so that the same state gives the same bytes:
// the ETag, the gateway's "changed?" check and the worker's "write only when changed" rely on it.
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { listGatewayDevices, listHeldHostAddresses } from "@/db/queries/vpn-gateway";
import type { DbOrTx } from "../db";
import { getEnv, type Env } from "../env";
import { AppError } from "../errors";
import { hashSecret, safeEqual } from "../auth/secrets";
import { formatCidr, parseCidr, parseCidrList, parseIpv4, type Ipv4Cidr } from "./cidr";
import { wireGuardKeyError } from "./wireguard";

export type GatewayDevice = {
  deviceId: string;
  deviceName: string;
  publicKey: string;
  address: string;
  userEmail: string;
  userName: string;
  /** The machines the owner holds now: one entry per address. */
  held: { hostName: string; address: string }[];
};

export type GatewayRulesOptions = {
  followLeases: boolean;
  /** KILN_VPN_ADDRESS_RANGE. */
  vpnRange: string;
  /** KILN_VPN_ALLOWED_IPS: the machines' networks. */
  allowedIps: string;
};

/** The devices the gateway accepts, each with the addresses of the hosts its owner holds at `now`. */
export async function listGatewayState(db: DbOrTx, now: Date = new Date()): Promise<GatewayDevice[]> {
  const devices = await listGatewayDevices(db);
  const held = await listHeldHostAddresses(db, { userIds: [...new Set(devices.map((d) => d.userId))], now });
  const heldBy = new Map<string, { hostName: string; address: string }[]>();
  for (const h of held) {
    const list = heldBy.get(h.userId) ?? [];
    list.push({ hostName: h.hostName, address: h.address });
    heldBy.set(h.userId, list);
  }
  return devices.map(({ userId, ...d }) => ({ ...d, held: heldBy.get(userId) ?? [] }));
}

/** One line of text safe for a `#` comment in either file: no line breaks or control characters. */
function commentText(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, " ").trim().slice(0, 200);
}

function ownerComment(d: Pick<GatewayDevice, "userEmail" | "userName" | "deviceName">): string {
  return commentText(`${d.userName ? `${d.userName} <${d.userEmail}>` : d.userEmail} — ${d.deviceName}`);
}

const byNumber = (a: string, b: string) => (parseIpv4(a) ?? 0) - (parseIpv4(b) ?? 0) || a.localeCompare(b);

/**
 * Sorted by address; a row that would make `wg` or `nft` refuse the whole file (a key or an
 * address that is not one) is left out, so one bad row cannot freeze every other person's access.
 */
function sortedDevices(devices: GatewayDevice[]): GatewayDevice[] {
  return devices
    .filter((d) => parseIpv4(d.address) !== null && wireGuardKeyError(d.publicKey) === null)
    .sort((a, b) => byNumber(a.address, b.address) || a.publicKey.localeCompare(b.publicKey));
}

/**
 * The [Peer] sections, one per device, AllowedIPs its /32 (WireGuard's cryptokey routing:
 * the gateway accepts from a peer only packets with that source). No [Interface]: Kiln never
 * holds the gateway's private key. The gateway prepends its own [Interface] section
 * (PrivateKey, ListenPort) and hands the whole to `wg syncconf`, which adds, changes and
 * removes peers without dropping the sessions of the others.
 */
export function renderGatewayPeers(devices: GatewayDevice[]): string {
  const list = sortedDevices(devices);
  const out = [
    "# Kiln's WireGuard peers for the lab gateway (generated: the next sync replaces this file).",
    "# Prepend the gateway's [Interface] section (PrivateKey, ListenPort), then: wg syncconf wg0 <file>",
    `# ${list.length} device${list.length === 1 ? "" : "s"}`,
  ];
  for (const d of list) {
    out.push("", "[Peer]", `# ${ownerComment(d)}`, `PublicKey = ${d.publicKey}`, `AllowedIPs = ${d.address}/32`);
  }
  return `${out.join("\n")}\n`;
}

export const NFT_TABLE = "kiln_vpn";

function isInAny(address: string, allowed: Ipv4Cidr[]): boolean {
  const ip = parseIpv4(address);
  return ip !== null && allowed.some((c) => ip >= c.network && ip <= c.broadcast);
}

function nftSet(items: string[]): string {
  return items.length === 1 ? items[0]! : `{ ${items.join(", ")} }`;
}

/**
 * The forwarding rules, as one `nft -f` file: the table is declared (so the delete cannot
 * fail on a gateway that never had it), deleted and rebuilt in one transaction, so a gateway
 * never runs with half the rules, and a file that fails to load leaves the previous ones.
 *
 * Only traffic from and to the VPN range is judged; everything else the gateway forwards is
 * left to its other tables. Following leases, a device reaches the addresses of the hosts its
 * owner holds (those inside KILN_VPN_ALLOWED_IPS: a host's boot source address may be a relay's,
 * which is not the person's to reach); else every device reaches KILN_VPN_ALLOWED_IPS.
 * Lab machines may answer but not open connections to people's devices. Only the answers are
 * let through as "established": a device's own packets are judged by the current rules every
 * time, so an ssh session opened during a lease stops when the lease ends, not when it closes.
 */
export function renderGatewayNftables(devices: GatewayDevice[], opts: GatewayRulesOptions): string {
  const range = formatCidr(parseCidr(opts.vpnRange));
  const allowed = parseCidrList(opts.allowedIps);
  const list = sortedDevices(devices);
  const rules: string[] = [];
  if (opts.followLeases) {
    for (const d of list) {
      const targets = [...new Set(d.held.filter((h) => isInAny(h.address, allowed)).map((h) => h.address))].sort(byNumber);
      const hostNames = [...new Set(d.held.filter((h) => targets.includes(h.address)).map((h) => h.hostName))].sort();
      rules.push(`\t\t# ${ownerComment(d)}: ${hostNames.length ? commentText(hostNames.join(", ")) : "holds no machine"}`);
      if (targets.length) rules.push(`\t\tip saddr ${d.address} ip daddr ${nftSet(targets)} accept`);
    }
  } else if (list.length && allowed.length) {
    rules.push(`\t\t# ${list.length} device${list.length === 1 ? "" : "s"} to the machines' networks (KILN_VPN_ALLOWED_IPS)`);
    rules.push(`\t\tip saddr ${nftSet(list.map((d) => d.address))} ip daddr ${nftSet(allowed.map(formatCidr))} accept`);
  }
  const lines = [
    "#!/usr/sbin/nft -f",
    `# Kiln's VPN forwarding rules for the lab gateway (generated: the next sync replaces this file).`,
    `# Following leases: ${opts.followLeases ? "yes, each device reaches the machines its owner holds" : "no, every device reaches KILN_VPN_ALLOWED_IPS"}.`,
    `table inet ${NFT_TABLE}`,
    `delete table inet ${NFT_TABLE}`,
    "",
    `table inet ${NFT_TABLE} {`,
    "\tchain forward {",
    "\t\ttype filter hook forward priority filter; policy accept;",
    `\t\tip daddr ${range} ct state established,related accept`,
    `\t\tip daddr ${range} counter drop comment "no new connections to people's devices"`,
    ...rules,
    `\t\tip saddr ${range} counter drop comment "anything else from the VPN"`,
    "\t}",
    "}",
  ];
  return `${lines.join("\n")}\n`;
}

export type GatewayFiles = { peers: string; nftables: string };

export function isGatewayConfigured(env: Env): boolean {
  return env.isVpnEnabled && Boolean(env.KILN_VPN_GATEWAY_TOKEN);
}

/** Both files from the current state (the worker writes both; each route serves one). */
export async function renderGatewayFiles(db: DbOrTx, env: Env = getEnv(), now: Date = new Date()): Promise<GatewayFiles> {
  const devices = await listGatewayState(db, now);
  return {
    peers: renderGatewayPeers(devices),
    nftables: renderGatewayNftables(devices, { followLeases: env.KILN_VPN_FOLLOW_LEASES, vpnRange: env.KILN_VPN_ADDRESS_RANGE, allowedIps: env.KILN_VPN_ALLOWED_IPS }),
  };
}

/**
 * The gateway's credential: `Authorization: Bearer <KILN_VPN_GATEWAY_TOKEN>`, compared in
 * constant time. 404 while the gateway is not configured (nothing to serve), 401 for a
 * missing or wrong token. People's API tokens never open these files.
 */
export function requireGatewayToken(headers: Headers, env: Env = getEnv()): void {
  if (!env.isVpnEnabled) {
    throw new AppError("not_found", "WireGuard is not configured on this Kiln (set KILN_VPN_ENDPOINT and KILN_VPN_SERVER_PUBLIC_KEY).");
  }
  if (!env.KILN_VPN_GATEWAY_TOKEN) {
    throw new AppError("not_found", "The gateway's files are not served: set KILN_VPN_GATEWAY_TOKEN (at least 24 characters) and give the gateway the same token.");
  }
  const header = headers.get("authorization") ?? "";
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw new AppError("unauthorized", "Send the gateway token: Authorization: Bearer <KILN_VPN_GATEWAY_TOKEN>.");
  // Hashed first: equal lengths, so neither the comparison nor its length check says anything.
  if (!safeEqual(hashSecret(match[1]!), hashSecret(env.KILN_VPN_GATEWAY_TOKEN))) throw new AppError("unauthorized", "That is not the gateway token (KILN_VPN_GATEWAY_TOKEN).");
}

export const GATEWAY_PEERS_FILE = "wireguard-peers.conf";
export const GATEWAY_RULES_FILE = "nftables.conf";

/**
 * Writes both files into `dir` (KILN_VPN_GATEWAY_DIR), each only when its bytes changed, each
 * atomically (a temporary file in the same directory, fsynced, then renamed over the old one):
 * a reader — the gateway's path unit or timer — sees the old file or the new one, never half.
 * Returns the names written.
 */
export async function writeGatewayFiles(dir: string, files: GatewayFiles, now: number = Date.now()): Promise<string[]> {
  await fs.mkdir(dir, { recursive: true });
  await removeStaleTemporaries(dir, now);
  const written: string[] = [];
  for (const [name, text] of [
    [GATEWAY_PEERS_FILE, files.peers],
    [GATEWAY_RULES_FILE, files.nftables],
  ] as const) {
    const target = path.join(dir, name);
    const current = await fs.readFile(target, "utf8").catch((e: NodeJS.ErrnoException) => (e.code === "ENOENT" ? null : Promise.reject(e)));
    if (current === text) continue;
    const tmp = path.join(dir, `.${name}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
    try {
      // 0600: the peers hold no secret, but the rules say who holds which machine.
      const handle = await fs.open(tmp, "w", 0o600);
      try {
        await handle.writeFile(text);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.rename(tmp, target);
    } catch (e) {
      await fs.rm(tmp, { force: true });
      throw e;
    }
    written.push(name);
  }
  // The renames are durable only once the directory itself is on disk.
  if (written.length) await syncDirectory(dir);
  return written;
}

const TEMPORARY = /^\.(?:wireguard-peers|nftables)\.conf\.\d+\.[0-9a-f]{8}\.tmp$/;
const STALE_TEMPORARY_MS = 10 * 60_000;

/**
 * A crash between writing a temporary file and renaming it leaves the temporary behind; the next
 * write removes those older than ten minutes (a write in progress is seconds old).
 */
async function removeStaleTemporaries(dir: string, now: number): Promise<void> {
  for (const name of await fs.readdir(dir)) {
    if (!TEMPORARY.test(name)) continue;
    const file = path.join(dir, name);
    const stat = await fs.stat(file).catch(() => null);
    if (stat && now - stat.mtimeMs > STALE_TEMPORARY_MS) await fs.rm(file, { force: true });
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await fs.open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The worker's pass: render and write when KILN_VPN_GATEWAY_DIR is set and WireGuard is on; else nothing. */
export async function syncGatewayDir(db: DbOrTx, env: Env = getEnv(), now: Date = new Date()): Promise<{ written: string[] } | null> {
  if (!env.KILN_VPN_GATEWAY_DIR || !env.isVpnEnabled) return null;
  return { written: await writeGatewayFiles(env.KILN_VPN_GATEWAY_DIR, await renderGatewayFiles(db, env, now)) };
}
