// The VPN gateway operations of the OpenAPI registry (lib/api/routes/index.ts joins the tags).
import { z } from "zod";
import type { ApiRoute } from "./api-route";

export const VPN_GATEWAY_ROUTES: ApiRoute[] = [
  // VPN gateway: the gateway's token, not a person's ("public" to the session guard; the handler checks the token).
  {
    method: "GET", path: "/api/v1/vpn/gateway/wireguard.conf", operationId: "getVpnGatewayPeers", tag: "VPN gateway", auth: "public",
    summary: "The gateway's WireGuard peers",
    description:
      "One `[Peer]` per device of an active account (not revoked), `AllowedIPs` its tunnel address /32, sorted. No `[Interface]`: the gateway prepends its own (private key, port) and applies the whole with `wg syncconf`. " +
      "Send `Authorization: Bearer <KILN_VPN_GATEWAY_TOKEN>`. The answer carries an ETag; with `If-None-Match` it is 304 when nothing changed.",
    success: { status: 200, description: "The peers, text/plain (wg config format).", schema: z.string(), contentType: "text/plain" },
    errors: [
      { status: 401, description: "No bearer token, or not the gateway's token." },
      { status: 404, description: "WireGuard or the gateway token is not configured on this Kiln." },
    ],
  },
  {
    method: "GET", path: "/api/v1/vpn/gateway/nftables.conf", operationId: "getVpnGatewayRules", tag: "VPN gateway", auth: "public",
    summary: "The gateway's nftables forwarding rules",
    description:
      "An `nft -f` file that replaces the table `inet kiln_vpn` in one transaction. With KILN_VPN_FOLLOW_LEASES each device reaches only the addresses of the machines its owner holds now; else the machines' networks (KILN_VPN_ALLOWED_IPS). Anything else from the VPN range is dropped. " +
      "Send `Authorization: Bearer <KILN_VPN_GATEWAY_TOKEN>`. ETag and If-None-Match → 304 as for the peers.",
    success: { status: 200, description: "The ruleset, text/plain.", schema: z.string(), contentType: "text/plain" },
    errors: [
      { status: 401, description: "No bearer token, or not the gateway's token." },
      { status: 404, description: "WireGuard or the gateway token is not configured on this Kiln." },
    ],
  },
];
