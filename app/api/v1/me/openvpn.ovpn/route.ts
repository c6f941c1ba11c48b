// GET /api/v1/me/openvpn.ovpn — the caller's OpenVPN profile (when the lab runs OpenVPN with the directory)
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { withErrors } from "@/lib/http/handler";
import { getMyOpenVpnProfile } from "@/lib/vpn/openvpn-profile";

export const GET = withErrors(async (req) => {
  const actor = await requireActor(req);
  const file = await getMyOpenVpnProfile(getAppDb(), actor);
  return new Response(file.text, {
    headers: {
      "Content-Type": "application/x-openvpn-profile; charset=utf-8",
      "Content-Disposition": `attachment; filename="${file.filename}"`,
      "Cache-Control": "no-store",
    },
  });
});
