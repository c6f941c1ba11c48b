// IPv4 CIDR arithmetic for the VPN settings (KILN_VPN_ADDRESS_RANGE, KILN_VPN_ALLOWED_IPS).
// Addresses are handled as unsigned 32-bit numbers; IPv6 is not offered for tunnels yet.

export type Ipv4Cidr = {
  /** The network address as an unsigned 32-bit number. */
  network: number;
  prefix: number;
  /** The broadcast (last) address as an unsigned 32-bit number. */
  broadcast: number;
};

const OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** The address as a number, or null when it is not a dotted quad. */
export function parseIpv4(text: string): number | null {
  const parts = text.trim().split(".");
  if (parts.length !== 4 || !parts.every((p) => OCTET.test(p))) return null;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/** `a.b.c.d/n` (a bare address is /32); throws with a message naming the text when malformed. */
export function parseCidr(text: string): Ipv4Cidr {
  const [addr, len, extra] = text.trim().split("/");
  const ip = parseIpv4(addr ?? "");
  const prefix = len === undefined ? 32 : /^\d{1,2}$/.test(len) ? Number(len) : NaN;
  if (ip === null || extra !== undefined || !(prefix >= 0 && prefix <= 32)) {
    throw new Error(`"${text}" is not an IPv4 address range such as 10.250.0.0/24`);
  }
  const size = 2 ** (32 - prefix);
  const network = ip - (ip % size);
  return { network, prefix, broadcast: network + size - 1 };
}

/** A comma-separated list of ranges (as in KILN_VPN_ALLOWED_IPS), blanks dropped. */
export function parseCidrList(text: string): Ipv4Cidr[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map(parseCidr);
}

export function formatCidr(c: Ipv4Cidr): string {
  return `${formatIpv4(c.network)}/${c.prefix}`;
}

export function isInCidr(address: string, c: Ipv4Cidr): boolean {
  const ip = parseIpv4(address);
  return ip !== null && ip >= c.network && ip <= c.broadcast;
}

/** First and last addresses a host may take (network and broadcast excluded below /31). */
export function usableRange(c: Ipv4Cidr): { first: number; last: number } {
  if (c.prefix >= 31) return { first: c.network, last: c.broadcast };
  return { first: c.network + 1, last: c.broadcast - 1 };
}

/** The gateway's own tunnel address: the first usable address of the range. */
export function gatewayAddressOf(range: string | Ipv4Cidr): string {
  const c = typeof range === "string" ? parseCidr(range) : range;
  if (c.prefix > 30) throw new Error(`${formatCidr(c)} is too small for a gateway and devices (use /30 or larger)`);
  return formatIpv4(usableRange(c).first);
}
