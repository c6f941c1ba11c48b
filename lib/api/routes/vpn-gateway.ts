// The VPN gateway operations of the OpenAPI registry (lib/api/routes/index.ts joins the tags). They take
// the gateway's token, not a person's ("public" to the session guard; the handler checks the token).
import { z } from "zod";
import { notFound, ok, tagRoutes, unauthorized } from "./shapes";

const GATEWAY_401 = unauthorized("No bearer token, or not the gateway's token.");
const GATEWAY_404 = notFound("WireGuard or the gateway token is not configured on this Kiln.");

export const VPN_GATEWAY_ROUTES = tagRoutes("VPN gateway", [
  {
    method: "GET", path: "/api/v1/vpn/gateway/wireguard.conf", operationId: "getVpnGatewayPeers", auth: "public",
    summary: "The gateway's WireGuard peers",
    description:
      "One `[Peer]` per device of an active account (not revoked), `AllowedIPs` its tunnel address /32, sorted. No `[Interface]`: the gateway prepends its own (private key, port) and applies the whole with `wg syncconf`. " +
      "Send `Authorization: Bearer <KILN_VPN_GATEWAY_TOKEN>`. The answer carries an ETag; with `If-None-Match` it is 304 when nothing changed.",
    success: ok("The peers, text/plain (wg config format).", z.string(), "text/plain"),
    errors: [
      GATEWAY_401,
      GATEWAY_404,
    ],
  },
  {
    method: "GET", path: "/api/v1/vpn/gateway/nftables.conf", operationId: "getVpnGatewayRules", auth: "public",
    summary: "The gateway's nftables forwarding rules",
    description:
      "An `nft -f` file that replaces the table `inet kiln_vpn` in one transaction. With KILN_VPN_FOLLOW_LEASES each device reaches only the addresses of the machines its owner holds now; else the machines' networks (KILN_VPN_ALLOWED_IPS). Anything else from the VPN range is dropped. " +
      "Send `Authorization: Bearer <KILN_VPN_GATEWAY_TOKEN>`. ETag and If-None-Match → 304 as for the peers.",
    success: ok("The ruleset, text/plain.", z.string(), "text/plain"),
    errors: [
      GATEWAY_401,
      GATEWAY_404,
    ],
  },
]);
