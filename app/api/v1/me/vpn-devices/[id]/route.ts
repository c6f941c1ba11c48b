// DELETE /api/v1/me/vpn-devices/:id — revoke one of the caller's WireGuard devices
import { idParam, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, withErrors } from "@/lib/http/handler";
import { revokeVpnDevice } from "@/lib/vpn/devices";

export const DELETE = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  return ok(await revokeVpnDevice(getAppDb(), actor, await idParam(ctx, "id", "That device does not exist."), "own"));
});
