// GET /api/v1/me/vpn-devices — the caller's active WireGuard devices
// POST /api/v1/me/vpn-devices — add one (a public key, or generate: "server" for a key pair shown once)
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, readJson, withErrors } from "@/lib/http/handler";
import { createVpnDevice, listMyVpnDevices } from "@/lib/vpn/devices";

export const GET = withErrors(async (req) => {
  const actor = await requireActor(req);
  return ok(await listMyVpnDevices(getAppDb(), actor));
});

export const POST = withErrors(async (req) => {
  const actor = await requireActor(req);
  const created = await createVpnDevice(getAppDb(), actor, await readJson(req));
  // The answer may carry a private key: no cache keeps a copy.
  const res = ok(created, 201);
  res.headers.set("Cache-Control", "no-store");
  return res;
});
