// GET /api/v1/vpn/gateway/nftables.conf — the lab gateway's forwarding rules for `nft -f` (bearer: KILN_VPN_GATEWAY_TOKEN; ETag)
import { getAppDb } from "@/lib/db";
import { textWithEtag } from "@/lib/http/etag";
import { withErrors } from "@/lib/http/handler";
import { renderGatewayFiles, requireGatewayToken } from "@/lib/vpn/gateway";

export const GET = withErrors(async (req) => {
  requireGatewayToken(req.headers);
  return textWithEtag(req, (await renderGatewayFiles(getAppDb())).nftables);
});
