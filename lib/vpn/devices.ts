// A person's WireGuard devices (issue 17): each has a key pair and a tunnel address into the
// lab. Kiln keeps only public keys: a key pair made in the browser never shows Kiln its private
// half, and one Kiln makes is handed back once, in the answer that creates the device.
// Only active accounts see any of it; with WireGuard not configured, none of it exists (404).
import {
  countActiveVpnDevicesOfUser,
  findActiveVpnDeviceByPublicKey,
  getVpnDevice,
  insertVpnDevice,
  listActiveVpnAddresses,
  listActiveVpnDevicesWithOwner,
  listVpnDevicesOfUser,
  lockVpnDeviceAllocation,
  revokeVpnDeviceRow,
} from "@/db/queries/vpn";
import type { UserRow, VpnDeviceRow, VpnKeyOrigin } from "@/db/schema";
import { isUniqueViolation } from "@/db/errors";
import type { Db, DbOrTx } from "../db";
import { getEnv } from "../env";
import { AppError } from "../errors";
import { assertAdmin, type Actor } from "../access/actor";
import { recordAudit } from "../audit/audit";
import { getUserStatus } from "../users/user-view";
import { getLogger } from "../log";
import { parseInput } from "../validation/parse";
import { vpnDeviceCreateSchema } from "../validation/vpn";
import { allocateAddress, deviceAddressBounds } from "./addresses";
import { generateKeyPair, renderClientConfig, wireGuardKeyError } from "./wireguard";

/** Devices one person may have at once: a laptop, a phone, a desktop or two — not a fleet. */
export const MAX_VPN_DEVICES_PER_USER = 10;

export const VPN_DISABLED_MESSAGE = "WireGuard is not set up on this Kiln.";
const DEVICE_NOT_FOUND = "That device does not exist, or was revoked.";

export type VpnDeviceView = {
  id: string;
  name: string;
  publicKey: string;
  address: string;
  keyOrigin: VpnKeyOrigin;
  createdAt: Date;
  revokedAt: Date | null;
};

function toView(d: Pick<VpnDeviceRow, keyof VpnDeviceView>): VpnDeviceView {
  return { id: d.id, name: d.name, publicKey: d.publicKey, address: d.address, keyOrigin: d.keyOrigin, createdAt: d.createdAt, revokedAt: d.revokedAt };
}

/** True when this person may see lab access at all (the page, the nav link, the API). */
export function isLabAccessAllowed(user: Pick<UserRow, "disabledAt" | "emailVerifiedAt" | "approvedAt"> | null): boolean {
  return Boolean(user) && getUserStatus(user!) === "active";
}

/**
 * The caller, when WireGuard is configured and their account is active. Sessions and tokens of
 * inactive accounts are refused before this; it is checked again here because lib/ is called
 * from pages, actions and jobs too.
 */
function requireVpnUser(actor: Actor): UserRow {
  if (!actor.user) throw new AppError("unauthorized", "Sign in to continue.");
  if (!isLabAccessAllowed(actor.user)) throw new AppError("forbidden", "Lab access is for active accounts only.");
  if (!getEnv().isVpnEnabled) throw new AppError("not_found", VPN_DISABLED_MESSAGE);
  return actor.user;
}

/** The wg-quick file of a device; without `privateKey`, a placeholder line the person fills in. */
export function renderDeviceConfig(device: Pick<VpnDeviceRow, "address">, privateKey?: string): string {
  const env = getEnv();
  return renderClientConfig({
    privateKey,
    address: device.address,
    serverPublicKey: env.KILN_VPN_SERVER_PUBLIC_KEY!,
    endpoint: env.KILN_VPN_ENDPOINT!,
    allowedIps: env.KILN_VPN_ALLOWED_IPS.split(",").map((s) => s.trim()).filter(Boolean),
    dns: env.KILN_VPN_DNS,
  });
}

/** kiln-<device>.conf: wg-quick names the interface after the file (hence the short device names). */
export function deviceConfigFilename(name: string): string {
  return `kiln-${name}.conf`;
}

export async function listMyVpnDevices(db: DbOrTx, actor: Actor): Promise<{ data: VpnDeviceView[] }> {
  const user = requireVpnUser(actor);
  return { data: (await listVpnDevicesOfUser(db, user.id)).map(toView) };
}

export type VpnDeviceCreated = VpnDeviceView & { config: string; privateKey: string | null };

export async function createVpnDevice(db: Db, actor: Actor, input: unknown): Promise<VpnDeviceCreated> {
  const user = requireVpnUser(actor);
  const data = parseInput(vpnDeviceCreateSchema, input);
  let keyOrigin: VpnKeyOrigin;
  let publicKey: string;
  // Held only for this answer: never written to the database, the audit log or a log line.
  let privateKey: string | null = null;
  if (data.generate === "server") {
    const pair = generateKeyPair();
    ({ publicKey, privateKey } = pair);
    keyOrigin = "server";
  } else {
    const error = wireGuardKeyError(data.publicKey ?? "");
    if (error) throw AppError.field("publicKey", error);
    publicKey = data.publicKey!.trim();
    keyOrigin = data.keyOrigin ?? "pasted";
  }
  const range = getEnv().KILN_VPN_ADDRESS_RANGE;
  try {
    deviceAddressBounds(range);
  } catch (err) {
    // Malformed or too small (/31, /32): the administrator's to fix, not the person's.
    getLogger("vpn").error({ err, range }, "KILN_VPN_ADDRESS_RANGE cannot hold devices");
    throw new AppError("unavailable", "WireGuard devices cannot be added: this Kiln's VPN address range is misconfigured. An administrator has been told in the log.");
  }

  let row: VpnDeviceRow;
  try {
    row = await db.transaction(async (tx) => {
      await lockVpnDeviceAllocation(tx);
      if ((await countActiveVpnDevicesOfUser(tx, user.id)) >= MAX_VPN_DEVICES_PER_USER) {
        throw new AppError("quota_exceeded", `You already have ${MAX_VPN_DEVICES_PER_USER} devices, the most one person may have. Revoke one you no longer use first.`);
      }
      const holder = await findActiveVpnDeviceByPublicKey(tx, publicKey);
      if (holder) {
        throw AppError.field(
          "publicKey",
          holder.userId === user.id
            ? `Your device ${holder.name} already uses this public key. Each device needs its own key pair.`
            : "Another device already uses this public key. Each device needs its own key pair.",
        );
      }
      const address = allocateAddress(range, await listActiveVpnAddresses(tx));
      const created = await insertVpnDevice(tx, { userId: user.id, name: data.name, publicKey, address, keyOrigin });
      await recordAudit(tx, actor, {
        action: "vpn.device.create",
        targetType: "vpn_device",
        targetId: created.id,
        summary: `added WireGuard device ${created.name} (${created.address}, key made ${keyOrigin === "server" ? "by Kiln" : keyOrigin === "browser" ? "in the browser" : "elsewhere"})`,
        data: { name: created.name, address: created.address, publicKey, keyOrigin, ownerId: user.id },
      });
      return created;
    });
  } catch (e) {
    // The lock makes these unreachable in Kiln; another writer (a restore, a manual insert) is still answered clearly.
    if (isUniqueViolation(e, "vpn_devices_public_key_key")) throw AppError.field("publicKey", "Another device already uses this public key. Each device needs its own key pair.");
    if (isUniqueViolation(e, "vpn_devices_address_key")) throw new AppError("conflict", "Another device took that tunnel address at the same moment; try again.");
    throw e;
  }
  return { ...toView(row), config: renderDeviceConfig(row, privateKey ?? undefined), privateKey };
}

/**
 * The device's file. Kiln never has the private key after the device was made, so this copy
 * carries a placeholder line for it (the page fills in a browser-made key before saving).
 */
export async function getMyVpnDeviceConfig(db: DbOrTx, actor: Actor, id: string): Promise<{ filename: string; text: string }> {
  const user = requireVpnUser(actor);
  const device = await getVpnDevice(db, id);
  if (!device || device.userId !== user.id || device.revokedAt) throw new AppError("not_found", DEVICE_NOT_FOUND);
  return { filename: deviceConfigFilename(device.name), text: renderDeviceConfig(device) };
}

/**
 * Revokes a device: the gateway drops its peer on its next refresh and its address is free.
 * `scope: "own"` (a person's /me route) finds only the caller's devices; "any" is the admin's.
 * Revoking a device already revoked answers as success and changes nothing (a double click, a retry).
 */
export async function revokeVpnDevice(db: Db, actor: Actor, id: string, scope: "own" | "any"): Promise<{ ok: true; revokedAt: Date }> {
  const user = requireVpnUser(actor);
  if (scope === "any") assertAdmin(actor);
  return db.transaction(async (tx) => {
    const device = await getVpnDevice(tx, id);
    if (!device || (scope === "own" && device.userId !== user.id)) throw new AppError("not_found", "That device does not exist.");
    if (device.revokedAt) return { ok: true as const, revokedAt: device.revokedAt };
    const revoked = await revokeVpnDeviceRow(tx, { id, revokedBy: user.id, at: new Date() });
    // Lost a race with another revoke of the same device: theirs is the one recorded.
    if (!revoked) return { ok: true as const, revokedAt: (await getVpnDevice(tx, id))!.revokedAt! };
    const byOwner = device.userId === user.id;
    await recordAudit(tx, actor, {
      action: "vpn.device.revoke",
      targetType: "vpn_device",
      targetId: id,
      summary: `revoked WireGuard device ${device.name} (${device.address})${byOwner ? "" : " of another user"}`,
      data: { name: device.name, address: device.address, publicKey: device.publicKey, ownerId: device.userId },
    });
    return { ok: true as const, revokedAt: revoked.revokedAt! };
  });
}

export type VpnDeviceAdminView = VpnDeviceView & { userId: string; ownerEmail: string; ownerName: string };

export async function listAllVpnDevices(db: DbOrTx, actor: Actor): Promise<{ data: VpnDeviceAdminView[] }> {
  requireVpnUser(actor);
  assertAdmin(actor);
  const rows = await listActiveVpnDevicesWithOwner(db);
  return { data: rows.map((r) => ({ ...toView(r), userId: r.userId, ownerEmail: r.ownerEmail, ownerName: r.ownerName })) };
}
