// The Lab access operations of the OpenAPI registry (lib/api/routes/index.ts joins the tags).
import { z } from "zod";
import * as common from "../../validation/common";
import * as vpn from "../../validation/vpn";
import { badRequest, conflict, created, forbidden, idParam, notFound, ok, tagRoutes, unavailable } from "./shapes";

const VPN_DEVICE_ID = idParam("device");
const VPN_404 = notFound("WireGuard is not set up on this Kiln (KILN_VPN_ENDPOINT and KILN_VPN_SERVER_PUBLIC_KEY unset).");
const VPN_REVOKED = z.object({ ok: z.literal(true), revokedAt: common.timestampSchema });

export const LAB_ACCESS_ROUTES = tagRoutes("Lab access", [
  {
    method: "GET", path: "/api/v1/me/vpn-devices", operationId: "listMyVpnDevices", auth: "user",
    summary: "The caller's WireGuard devices",
    description: "Active devices only (a revoked one is gone from the list). Never a private key: Kiln does not keep one.",
    success: ok("`{ data }`.", vpn.vpnDeviceListResponseSchema),
    errors: [VPN_404],
  },
  {
    method: "POST", path: "/api/v1/me/vpn-devices", operationId: "createMyVpnDevice", auth: "user",
    summary: "Add a WireGuard device",
    description:
      "Send `publicKey` (base64 of 32 bytes, as `wg pubkey` prints it; `keyOrigin: \"browser\"` when Kiln's page made it in the browser), or `generate: \"server\"`: Kiln makes the key pair and the answer carries `privateKey` and the complete file this once — Kiln does not store it. " +
      "The device gets the lowest free address of KILN_VPN_ADDRESS_RANGE. At most 10 active devices per person. Audited (`vpn.device.create`).",
    body: vpn.vpnDeviceCreateSchema,
    success: created("The device with its wg-quick file (`config`).", vpn.vpnDeviceCreatedSchema),
    errors: [
      badRequest("Not a WireGuard key, or a key another active device uses."),
      forbidden("The caller already has 10 devices, or the account is not active."),
      VPN_404,
      conflict("Every address of the range is in use."),
      unavailable("KILN_VPN_ADDRESS_RANGE cannot hold devices (malformed, or smaller than /30)."),
    ],
  },
  {
    method: "GET", path: "/api/v1/me/vpn-devices/{id}/wireguard.conf", operationId: "getMyVpnDeviceConfig", auth: "user", params: VPN_DEVICE_ID,
    summary: "Download a device's WireGuard file",
    description: "`kiln-<device>.conf` as an attachment. Its `PrivateKey` line is a placeholder to replace with the device's private key, which Kiln never keeps.",
    success: ok("The wg-quick file.", z.string().describe("text/plain"), "text/plain"),
    errors: [notFound("No such active device of the caller's, or WireGuard is not configured.")],
  },
  {
    method: "DELETE", path: "/api/v1/me/vpn-devices/{id}", operationId: "revokeMyVpnDevice", auth: "user", params: VPN_DEVICE_ID,
    summary: "Revoke one of the caller's WireGuard devices",
    description: "The gateway drops its peer when it next reads the peer list; its address is free again. Revoking a revoked device changes nothing and answers the same. Audited (`vpn.device.revoke`).",
    success: ok("`{ ok: true, revokedAt }`.", VPN_REVOKED),
    errors: [notFound("No such device of the caller's, or WireGuard is not configured.")],
  },
  {
    method: "GET", path: "/api/v1/me/openvpn.ovpn", operationId: "getMyOpenVpnProfile", auth: "user",
    summary: "Download the caller's OpenVPN profile",
    description:
      "`kiln.ovpn` as an attachment, for labs whose OpenVPN checks passwords against the directory (openvpn-auth-ldap): the server (KILN_OPENVPN_REMOTE), its CA, and the caller's directory uid as the username " +
      "(the entry Kiln manages for them, else their LDAP sign-in name, else their email's local part). No secret: OpenVPN asks for the directory password.",
    success: ok("The .ovpn profile.", z.string().describe("application/x-openvpn-profile"), "application/x-openvpn-profile"),
    errors: [
      notFound("OpenVPN is not set up on this Kiln (KILN_OPENVPN_REMOTE unset)."),
      unavailable("KILN_OPENVPN_CA_FILE is unset or unreadable, or the settings are malformed (the log says which)."),
    ],
  },
  {
    method: "GET", path: "/api/v1/vpn-devices", operationId: "listVpnDevices", auth: "admin",
    summary: "Every active WireGuard device, with its owner",
    success: ok("`{ data }`.", vpn.vpnDeviceAdminListResponseSchema),
    errors: [VPN_404],
  },
  {
    method: "DELETE", path: "/api/v1/vpn-devices/{id}", operationId: "revokeVpnDevice", auth: "admin", params: VPN_DEVICE_ID,
    summary: "Revoke anyone's WireGuard device",
    description: "As the owner's revoke; the audit entry names the administrator.",
    success: ok("`{ ok: true, revokedAt }`.", VPN_REVOKED),
    errors: [notFound("No such device, or WireGuard is not configured.")],
  },
]);
