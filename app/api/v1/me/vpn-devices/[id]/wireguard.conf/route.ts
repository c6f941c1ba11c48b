// GET /api/v1/me/vpn-devices/:id/wireguard.conf — the device's wg-quick file (PrivateKey left as a placeholder)
import { idParam, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { withErrors } from "@/lib/http/handler";
import { getMyVpnDeviceConfig } from "@/lib/vpn/devices";

export const GET = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  const file = await getMyVpnDeviceConfig(getAppDb(), actor, await idParam(ctx, "id", "That device does not exist, or was revoked."));
  return new Response(file.text, {
    headers: {
      "Content-Type": "text/plain; charset=utf-8",
      "Content-Disposition": `attachment; filename="${file.filename}"`,
      "Cache-Control": "no-store",
    },
  });
});
