// A person's OpenVPN profile (.ovpn), for labs running OpenVPN with the directory
// (openvpn-auth-ldap). It carries no secret of theirs: the server's address, the CA, and the
// username to sign in with, which is the person's directory uid.
import { readFile } from "node:fs/promises";
import { getDirectoryUidOfUser } from "@/db/queries/vpn";
import type { UserRow } from "@/db/schema";
import type { DbOrTx } from "../db";
import { getEnv } from "../env";
import { AppError } from "../errors";
import type { Actor } from "../access/actor";
import { getLogger } from "../log";
import { isLabAccessAllowed } from "./devices";
import { renderOpenVpnProfile } from "./openvpn";

export const OPENVPN_DISABLED_MESSAGE = "OpenVPN is not set up on this Kiln.";

/**
 * The uid the person signs in to OpenVPN with: the entry Kiln manages for them, else the uid they
 * sign in to Kiln with through LDAP (the lab's own entry), else their email's local part.
 */
export async function getOpenVpnUsername(db: DbOrTx, user: Pick<UserRow, "id" | "email" | "ldapUsername">): Promise<string> {
  const uid = await getDirectoryUidOfUser(db, user.id);
  return uid ?? user.ldapUsername ?? user.email.slice(0, user.email.indexOf("@"));
}

export async function getMyOpenVpnProfile(db: DbOrTx, actor: Actor): Promise<{ filename: string; text: string }> {
  const user = actor.user;
  if (!user) throw new AppError("unauthorized", "Sign in to continue.");
  if (!isLabAccessAllowed(user)) throw new AppError("forbidden", "Lab access is for active accounts only.");
  const env = getEnv();
  if (!env.KILN_OPENVPN_REMOTE) throw new AppError("not_found", OPENVPN_DISABLED_MESSAGE);
  const unavailable = "The OpenVPN profile cannot be made: this Kiln's OpenVPN settings are incomplete. An administrator has been told in the log.";
  if (!env.KILN_OPENVPN_CA_FILE) {
    getLogger("vpn").error("KILN_OPENVPN_REMOTE is set but KILN_OPENVPN_CA_FILE is not: the profile needs the CA certificate");
    throw new AppError("unavailable", unavailable);
  }
  let ca: string;
  try {
    ca = await readFile(env.KILN_OPENVPN_CA_FILE, "utf8");
  } catch (err) {
    getLogger("vpn").error({ err, file: env.KILN_OPENVPN_CA_FILE }, "KILN_OPENVPN_CA_FILE cannot be read");
    throw new AppError("unavailable", unavailable);
  }
  const username = await getOpenVpnUsername(db, user);
  try {
    return { filename: "kiln.ovpn", text: renderOpenVpnProfile({ remote: env.KILN_OPENVPN_REMOTE, ca, username }) };
  } catch (err) {
    // A malformed KILN_OPENVPN_REMOTE or a CA file without a certificate: the admin's to fix.
    getLogger("vpn").error({ err }, "the OpenVPN profile cannot be rendered");
    throw new AppError("unavailable", unavailable);
  }
}
