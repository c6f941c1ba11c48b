// What the lab's WireGuard gateway is told (lib/vpn/gateway.ts): the devices that may connect,
// and the addresses of the machines their owners hold right now.
import { and, asc, eq, gt, inArray, isNotNull, isNull, lte, or, sql } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { hostAddresses, hosts, leaseHosts, leases, users, vpnDevices } from "../schema";

export type GatewayDeviceRow = {
  deviceId: string;
  deviceName: string;
  publicKey: string;
  address: string;
  userId: string;
  userEmail: string;
  userName: string;
};

/**
 * Devices not revoked, of active accounts only: not disabled, email verified and approved —
 * getUserStatus (lib/users/user-view.ts) in SQL. A disabled person's devices drop out of
 * the gateway at its next sync, and come back if the account is enabled again.
 */
export async function listGatewayDevices(db: DbOrTx): Promise<GatewayDeviceRow[]> {
  return db
    .select({
      deviceId: vpnDevices.id,
      deviceName: vpnDevices.name,
      publicKey: vpnDevices.publicKey,
      address: vpnDevices.address,
      userId: users.id,
      userEmail: users.email,
      userName: users.name,
    })
    .from(vpnDevices)
    .innerJoin(users, eq(users.id, vpnDevices.userId))
    .where(
      and(
        isNull(vpnDevices.revokedAt),
        isNull(users.disabledAt),
        isNotNull(users.emailVerifiedAt),
        isNotNull(users.approvedAt),
      ),
    )
    .orderBy(asc(vpnDevices.address), asc(vpnDevices.id));
}

export type HeldHostAddressRow = { userId: string; hostId: string; hostName: string; address: string };

/**
 * The addresses of the hosts each of these people holds at `now`: a lease that is active,
 * has started and not reached its end, not yet in its staged end past the reminder (grace,
 * capturing, releasing, returned: the time to use the machine is over, only capture or
 * release is left), with the host still in it (released_at null; a hand-over or an early
 * release of one host takes it out). Per host and source, only the newest report's addresses
 * (those at that source's latest seen_at): older ones are where the machine used to be.
 */
export async function listHeldHostAddresses(db: DbOrTx, p: { userIds: string[]; now: Date }): Promise<HeldHostAddressRow[]> {
  if (p.userIds.length === 0) return [];
  const newest = db
    .select({ hostId: hostAddresses.hostId, source: hostAddresses.source, seenAt: sql<Date>`max(${hostAddresses.seenAt})`.as("newest_seen_at") })
    .from(hostAddresses)
    .groupBy(hostAddresses.hostId, hostAddresses.source)
    .as("newest");
  return db
    .selectDistinct({ userId: leases.userId, hostId: hosts.id, hostName: hosts.name, address: hostAddresses.address })
    .from(leases)
    .innerJoin(leaseHosts, and(eq(leaseHosts.leaseId, leases.id), isNull(leaseHosts.releasedAt)))
    .innerJoin(hosts, eq(hosts.id, leaseHosts.hostId))
    .innerJoin(hostAddresses, eq(hostAddresses.hostId, hosts.id))
    .innerJoin(
      newest,
      and(eq(newest.hostId, hostAddresses.hostId), eq(newest.source, hostAddresses.source), eq(newest.seenAt, hostAddresses.seenAt)),
    )
    .where(
      and(
        inArray(leases.userId, p.userIds),
        eq(leases.state, "active"),
        lte(leases.startsAt, p.now),
        gt(leases.endsAt, p.now),
        or(isNull(leases.endStage), eq(leases.endStage, "warned")),
      ),
    )
    .orderBy(asc(leases.userId), asc(hosts.name), asc(hostAddresses.address));
}
