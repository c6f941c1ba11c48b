// GET /api/v1/vpn/gateway/wireguard.conf — the lab gateway's WireGuard [Peer] sections (bearer: KILN_VPN_GATEWAY_TOKEN; ETag)
import { getAppDb } from "@/lib/db";
import { textWithEtag } from "@/lib/http/etag";
import { withErrors } from "@/lib/http/handler";
import { renderGatewayFiles, requireGatewayToken } from "@/lib/vpn/gateway";

export const GET = withErrors(async (req) => {
  requireGatewayToken(req.headers);
  return textWithEtag(req, (await renderGatewayFiles(getAppDb())).peers);
});
