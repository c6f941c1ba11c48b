// The addresses Kiln learns about a machine, and the ssh line built from them. Three sources:
// the boot request's source address (what Kiln saw: behind NAT, a relay or the lab's guestfwd
// it is the relay's), the deploy agent's inventory (what the ramdisk's interfaces hold), and
// the installed system's "done" call (what the new system, or its installer, holds). Kiln
// keeps the newest few per host and source, and never invents one.
import { isIP } from "node:net";
import { listAddressesOfHosts, upsertHostAddresses, type HostAddressInsert } from "@/db/queries/addresses";
import type { HostAddressSource } from "@/db/schema";
import type { DbOrTx } from "../db";
import { normalizeMac } from "../validation/mac";

/** Kept per host and source; older ones are deleted as new ones arrive. */
export const ADDRESSES_KEPT_PER_SOURCE = 6;
/** Per report: a machine with more interfaces than this is not one a person ssh-es into by a list. */
export const MAX_REPORTED_ADDRESSES = 32;

export type AddressScope = "global" | "private" | "link-local" | "loopback" | "unspecified" | "multicast";

export type ReportedAddress = { address: string; mac: string | null };

export type HostAddressView = {
  address: string;
  family: 4 | 6;
  scope: AddressScope;
  source: HostAddressSource;
  mac: string | null;
  seenAt: string;
};

/** "10.0.2.15/24", "fe80::1%eth0", "::ffff:10.0.0.1", "[2001:DB8::1]" → the address alone, canonical; null when it is none. */
export function normalizeAddress(raw: string): { address: string; family: 4 | 6 } | null {
  let s = raw.trim();
  if (s.startsWith("[") && s.endsWith("]")) s = s.slice(1, -1);
  s = s.replace(/\/\d{1,3}$/, "").replace(/%[\w.-]+$/, "");
  const v4mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(s);
  if (v4mapped) s = v4mapped[1]!;
  const family = isIP(s);
  if (family === 4) return { address: s.split(".").map((o) => String(Number(o))).join("."), family: 4 };
  if (family === 6) return { address: new URL(`http://[${s}]/`).hostname.slice(1, -1), family: 6 };
  return null;
}

export function addressScope(address: string): AddressScope {
  if (isIP(address) === 4) {
    const [a, b] = address.split(".").map(Number) as [number, number];
    if (a === 127) return "loopback";
    if (a === 0) return "unspecified";
    if (a === 169 && b === 254) return "link-local";
    if (a >= 224 && a <= 239) return "multicast";
    if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127)) return "private";
    return "global";
  }
  const a = address.toLowerCase();
  if (a === "::1") return "loopback";
  if (a === "::") return "unspecified";
  if (/^fe[89ab]/.test(a)) return "link-local";
  if (a.startsWith("ff")) return "multicast";
  if (/^f[cd]/.test(a)) return "private";
  return "global";
}

/** What a person can reach from elsewhere on the network: not loopback, link-local, multicast or 0.0.0.0. */
export function isRoutableScope(scope: AddressScope): boolean {
  return scope === "global" || scope === "private";
}

/**
 * The addresses in `ip -o link` and `ip -o addr` output (iproute2's or busybox's), each with
 * its interface's MAC when the link lines are there too. Loopback and link-local addresses
 * are left out: nobody reaches a machine by them.
 */
export function parseIpOutput(text: string): ReportedAddress[] {
  const macOf = new Map<string, string>();
  const found: { iface: string; address: string }[] = [];
  for (const line of text.split("\n").slice(0, 2000)) {
    const link = /^\d+:\s+([^:@\s]+)(?:@\S+)?:\s.*\blink\/ether\s+([0-9a-f:]{17})/i.exec(line);
    if (link) {
      macOf.set(link[1]!, link[2]!);
      continue;
    }
    const addr = /^\d+:\s+(\S+)\s+inet6?\s+(\S+)/.exec(line);
    if (addr) found.push({ iface: addr[1]!, address: addr[2]! });
  }
  return cleanReported(found.map((f) => ({ address: f.address, mac: macOf.get(f.iface) ?? null })));
}

/** Normalised, routable, distinct, at most MAX_REPORTED_ADDRESSES; MACs normalised (or dropped when they are not MACs). */
export function cleanReported(items: { address: string; mac?: string | null }[]): ReportedAddress[] {
  const out = new Map<string, ReportedAddress>();
  for (const item of items) {
    const n = normalizeAddress(item.address);
    if (!n || !isRoutableScope(addressScope(n.address)) || out.has(n.address)) continue;
    out.set(n.address, { address: n.address, mac: item.mac ? normalizeMac(item.mac) : null });
    if (out.size >= MAX_REPORTED_ADDRESSES) break;
  }
  return [...out.values()];
}

const SOURCE_RANK: Record<HostAddressSource, number> = { installed: 0, agent: 1, boot: 2 };

/**
 * The address an ssh line should use: a routable one only (`ssh root@127.0.0.1` would reach
 * the reader's own machine), what the installed system reported before the deploy agent's
 * before the boot request's source; IPv4 before IPv6 (a lab's IPv6 is more often unrouted),
 * the newest first.
 */
export function pickSshAddress<T extends Pick<HostAddressView, "address" | "family" | "scope" | "source" | "seenAt">>(addresses: T[]): T | null {
  const sorted = addresses.filter((a) => isRoutableScope(a.scope)).sort(
    (x, y) =>
      SOURCE_RANK[x.source] - SOURCE_RANK[y.source] ||
      x.family - y.family ||
      y.seenAt.localeCompare(x.seenAt),
  );
  return sorted[0] ?? null;
}

export type SshUserSource = "run vars" | "installer answers" | "fallback";

const USER_NAME = "([a-z_][a-z0-9_.-]{0,31})";
/** Where each built-in unattended format names the account it creates (boot/templates/unattended). */
const RENDERED_USER_PATTERNS = [
  new RegExp(`^d-i passwd/username string ${USER_NAME}\\s*$`, "m"), // preseed
  new RegExp(`^\\s+username:\\s*"?${USER_NAME}"?\\s*$`, "m"), // autoinstall identity
  new RegExp(`^users:\\s*\\n\\s*-\\s*name:\\s*"?${USER_NAME}"?\\s*$`, "m"), // cloud-init
  new RegExp(`^user\\s.*--name[= ]${USER_NAME}`, "m"), // kickstart user
  new RegExp(`^sshkey\\s.*--username[= ]${USER_NAME}`, "m"), // kickstart key
];

/**
 * The account to ssh in as: the run's `username` (or `user`) variable, which the built-in
 * templates give the account they create; else the name the rendered installer answers gave
 * it (the template's default, e.g. "kiln"); else root, which is only a guess (an image
 * deployed as is has whatever accounts its maker put in it).
 */
export function sshUserOf(run: { vars: Record<string, unknown>; renderedUnattended: string | null } | null): { user: string; source: SshUserSource } {
  for (const key of ["username", "user"]) {
    const v = run?.vars[key];
    if (typeof v === "string" && new RegExp(`^${USER_NAME}$`).test(v)) return { user: v, source: "run vars" };
  }
  const text = run?.renderedUnattended ?? "";
  for (const re of RENDERED_USER_PATTERNS) {
    const m = re.exec(text);
    if (m) return { user: m[1]!, source: "installer answers" };
  }
  return { user: "root", source: "fallback" };
}

/** `ssh user@10.0.0.5`; IPv6 needs no brackets for ssh itself (only scp and URLs do). */
export function sshCommand(user: string, address: string): string {
  return `ssh ${user}@${address}`;
}

/**
 * The boot server's touches as address rows. Kept whatever their scope: it is what Kiln saw
 * (127.0.0.1 when a relay on this machine forwarded the request), shown for what it is, and
 * the ssh line prefers any routable address over it.
 */
export function bootAddressRows(touches: { hostId: string; at: Date; sourceIp: string | null; mac?: string | null }[]): { rows: HostAddressInsert[]; keep: number } {
  const rows: HostAddressInsert[] = [];
  for (const t of touches) {
    const n = t.sourceIp ? normalizeAddress(t.sourceIp) : null;
    if (n) rows.push({ hostId: t.hostId, address: n.address, source: "boot", mac: t.mac ?? null, seenAt: t.at });
  }
  return { rows, keep: ADDRESSES_KEPT_PER_SOURCE };
}

/** The boot server's touches with their source address normalised, for recordBootSightings (last seen and boot address in one statement). */
export function bootSightings(touches: { hostId: string; at: Date; sourceIp: string | null; mac?: string | null }[]) {
  return {
    rows: touches.map((t) => ({ hostId: t.hostId, at: t.at, sourceIp: t.sourceIp, address: (t.sourceIp ? normalizeAddress(t.sourceIp)?.address : null) ?? null, mac: t.mac ?? null })),
    keep: ADDRESSES_KEPT_PER_SOURCE,
  };
}

/** Records what a machine reported (or where its boot request came from), newest kept. */
export async function recordHostAddresses(db: DbOrTx, p: { hostId: string; source: HostAddressSource; addresses: ReportedAddress[]; at: Date }): Promise<void> {
  if (p.addresses.length === 0) return;
  await upsertHostAddresses(db, {
    rows: p.addresses.map((a) => ({ hostId: p.hostId, address: a.address, source: p.source, mac: a.mac, seenAt: p.at })),
    keep: ADDRESSES_KEPT_PER_SOURCE,
  });
}

/**
 * The learned addresses of each host, newest first (no authorisation: callers check who may
 * see the host). With `leaseOf` (a researcher's view), only those seen since the host joined
 * their lease: where the machine was under someone else is none of their business.
 */
export async function listHostAddresses(db: DbOrTx, hostIds: string[], leaseOf?: Map<string, string>): Promise<Map<string, HostAddressView[]>> {
  const rows = await listAddressesOfHosts(db, hostIds, leaseOf);
  const out = new Map<string, HostAddressView[]>();
  for (const r of rows) {
    const n = normalizeAddress(r.address);
    if (!n) continue;
    const list = out.get(r.hostId) ?? [];
    list.push({ address: n.address, family: n.family, scope: addressScope(n.address), source: r.source, mac: r.mac, seenAt: r.seenAt.toISOString() });
    out.set(r.hostId, list);
  }
  return out;
}
