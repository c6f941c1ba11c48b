// GET /api/v1/vpn-devices — every active WireGuard device with its owner (administrators)
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, withErrors } from "@/lib/http/handler";
import { listAllVpnDevices } from "@/lib/vpn/devices";

export const GET = withErrors(async (req) => {
  const actor = await requireActor(req);
  return ok(await listAllVpnDevices(getAppDb(), actor));
});
