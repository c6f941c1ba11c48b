// WireGuard devices (vpn_devices). A device is active until revoked; revoked rows stay for the
// audit trail and no longer hold their address or public key (the unique indexes are partial).
import { and, asc, desc, eq, isNull, sql } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { directoryEntries, users, vpnDevices, type VpnDeviceRow } from "../schema";

const deviceColumns = {
  id: vpnDevices.id,
  userId: vpnDevices.userId,
  name: vpnDevices.name,
  publicKey: vpnDevices.publicKey,
  address: vpnDevices.address,
  keyOrigin: vpnDevices.keyOrigin,
  createdAt: vpnDevices.createdAt,
  revokedAt: vpnDevices.revokedAt,
};

/**
 * Serialises every device creation for the rest of the transaction: the lowest free address,
 * the per-user count and the public key check are then read and written by one creator at a
 * time. Creations are rare (a person adds a laptop), so one lock costs nothing.
 */
export async function lockVpnDeviceAllocation(db: DbOrTx): Promise<void> {
  await db.execute(sql`select pg_advisory_xact_lock(hashtext('kiln.vpn-device-allocation'))`);
}

export async function listActiveVpnAddresses(db: DbOrTx): Promise<string[]> {
  const rows = await db.select({ address: vpnDevices.address }).from(vpnDevices).where(isNull(vpnDevices.revokedAt));
  return rows.map((r) => r.address);
}

export async function countActiveVpnDevicesOfUser(db: DbOrTx, userId: string): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(vpnDevices)
    .where(and(eq(vpnDevices.userId, userId), isNull(vpnDevices.revokedAt)));
  return row?.n ?? 0;
}

/** The active device holding this public key, whoever owns it. */
export async function findActiveVpnDeviceByPublicKey(db: DbOrTx, publicKey: string) {
  const [row] = await db
    .select({ id: vpnDevices.id, userId: vpnDevices.userId, name: vpnDevices.name })
    .from(vpnDevices)
    .where(and(eq(vpnDevices.publicKey, publicKey), isNull(vpnDevices.revokedAt)))
    .limit(1);
  return row;
}

export async function insertVpnDevice(db: DbOrTx, values: typeof vpnDevices.$inferInsert): Promise<VpnDeviceRow> {
  const [row] = await db.insert(vpnDevices).values(values).returning();
  return row!;
}

export async function getVpnDevice(db: DbOrTx, id: string): Promise<VpnDeviceRow | undefined> {
  const [row] = await db.select().from(vpnDevices).where(eq(vpnDevices.id, id)).limit(1);
  return row;
}

/** A person's devices, active first, then revoked ones (newest first within each). */
export async function listVpnDevicesOfUser(db: DbOrTx, userId: string, params: { includeRevoked?: boolean } = {}) {
  return db
    .select(deviceColumns)
    .from(vpnDevices)
    .where(params.includeRevoked ? eq(vpnDevices.userId, userId) : and(eq(vpnDevices.userId, userId), isNull(vpnDevices.revokedAt)))
    .orderBy(sql`${vpnDevices.revokedAt} is not null`, asc(vpnDevices.createdAt));
}

/** Every active device with its owner (the admin's list, and the gateway's peers). */
export async function listActiveVpnDevicesWithOwner(db: DbOrTx) {
  return db
    .select({ ...deviceColumns, ownerEmail: users.email, ownerName: users.name })
    .from(vpnDevices)
    .innerJoin(users, eq(users.id, vpnDevices.userId))
    .where(isNull(vpnDevices.revokedAt))
    .orderBy(asc(users.email), desc(vpnDevices.createdAt));
}

/** Marks the device revoked unless it already is; the row when this call revoked it. */
export async function revokeVpnDeviceRow(db: DbOrTx, params: { id: string; revokedBy: string | null; at: Date }): Promise<VpnDeviceRow | undefined> {
  const [row] = await db
    .update(vpnDevices)
    .set({ revokedAt: params.at, revokedBy: params.revokedBy })
    .where(and(eq(vpnDevices.id, params.id), isNull(vpnDevices.revokedAt)))
    .returning();
  return row;
}

/** The uid of the directory entry Kiln manages for this person (their OpenVPN login), if any. */
export async function getDirectoryUidOfUser(db: DbOrTx, userId: string): Promise<string | undefined> {
  const [row] = await db.select({ uid: directoryEntries.uid }).from(directoryEntries).where(eq(directoryEntries.userId, userId)).limit(1);
  return row?.uid;
}
