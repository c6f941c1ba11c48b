// Tunnel addresses for WireGuard devices, from KILN_VPN_ADDRESS_RANGE. The network and broadcast
// addresses are never handed out, and the first usable one is the gateway's (lib/vpn/cidr.ts
// gatewayAddressOf), so a /24 holds 253 devices. Pure: the caller serialises allocations
// (db/queries/vpn.ts takes an advisory lock) and the unique index on active addresses backs it.
import { AppError } from "../errors";
import { formatIpv4, parseCidr, parseIpv4, usableRange, type Ipv4Cidr } from "./cidr";

/** The first and last address a device may take, as numbers. */
export function deviceAddressBounds(range: string | Ipv4Cidr): { first: number; last: number } {
  const c = typeof range === "string" ? parseCidr(range) : range;
  if (c.prefix > 30) throw new Error(`${c.prefix === 32 ? "A single address" : `A /${c.prefix}`} is too small for a gateway and devices: use /30 or larger for KILN_VPN_ADDRESS_RANGE`);
  const { first, last } = usableRange(c);
  // first is the gateway's.
  return { first: first + 1, last };
}

/** How many devices the range can hold at once. */
export function deviceAddressCapacity(range: string | Ipv4Cidr): number {
  const { first, last } = deviceAddressBounds(range);
  return Math.max(0, last - first + 1);
}

/**
 * The lowest address of the range no active device has, or null when every one is taken.
 * Addresses outside the range (left from a range the admin has since changed) are ignored.
 */
export function lowestFreeAddress(range: string | Ipv4Cidr, taken: Iterable<string>): string | null {
  const { first, last } = deviceAddressBounds(range);
  const used = new Set<number>();
  for (const a of taken) {
    const n = parseIpv4(a);
    if (n !== null && n >= first && n <= last) used.add(n);
  }
  for (let n = first; n <= last; n++) {
    if (!used.has(n)) return formatIpv4(n);
  }
  return null;
}

export const RANGE_FULL_MESSAGE =
  "Every tunnel address of this Kiln's VPN range is in use. Revoke a device you no longer use, or ask an administrator to widen KILN_VPN_ADDRESS_RANGE.";

/** Like lowestFreeAddress, but a full range is the caller's 409 with a sentence to act on. */
export function allocateAddress(range: string, taken: Iterable<string>): string {
  const address = lowestFreeAddress(range, taken);
  if (!address) throw new AppError("conflict", RANGE_FULL_MESSAGE);
  return address;
}
