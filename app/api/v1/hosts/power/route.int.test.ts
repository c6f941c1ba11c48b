// GET /api/v1/hosts/power and POST /api/v1/hosts/:id/power through the real route handlers:
// bad input is a 400 with a sentence that says what to fix.
import { callRoute } from "@/test/harness/route-handler";
import { beforeAll, describe, expect, it } from "vitest";
import { actorOf } from "@/lib/access/actor";
import { createApiToken } from "@/lib/auth/api-tokens";
import { createHost } from "@/lib/hosts/hosts";
import { useTestDb } from "@/test/harness/database";
import { createActiveUser } from "@/test/harness/fixtures";
import * as hostPower from "../[id]/power/route";
import * as powerList from "./route";

const t = await useTestDb();
let token: string;
let hostId: string;

beforeAll(async () => {
  const { user: admin } = await createActiveUser(t.db, { admin: true });
  const A = actorOf(admin, null);
  token = (await createApiToken(t.db, admin.id, { name: "power" })).token;
  hostId = (await createHost(t.db, A, { name: `power-route-${Date.now()}`, interfaces: [{ mac: "52:54:00:b0:08:01" }], power: { driver: "wol", params: { broadcast: "127.0.0.1", port: 9 } } })).id;
});

describe("power routes", () => {
  it("lists the states asked for, and refuses ids that are not host ids", async () => {
    const ok = await callRoute<{ data: { hostId: string; state: string; message: string }[] }>(powerList.GET, "GET", `/api/v1/hosts/power?ids=${hostId},${hostId}`, { token });
    expect(ok.status).toBe(200);
    expect(ok.body.data).toEqual([expect.objectContaining({ hostId, state: "unknown", message: "Wake-on-LAN can only wake a machine; it cannot tell whether the machine is on." })]);
    const bad = await callRoute<{ error: { message: string } }>(powerList.GET, "GET", "/api/v1/hosts/power?ids=lab-01", { token });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toBe("Query parameter ids.0: Each id must be a host id (a UUID).");
    const many = Array.from({ length: 501 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`).join(",");
    expect((await callRoute<{ error: { message: string } }>(powerList.GET, "GET", `/api/v1/hosts/power?ids=${many}`, { token })).body.error.message).toBe("Query parameter ids: Ask for at most 500 hosts at a time.");
  });

  it("refuses a network boot the driver cannot set, and a bad flag, with a sentence", async () => {
    const wol = await callRoute<{ error: { message: string } }>(hostPower.POST, "POST", `/api/v1/hosts/${hostId}/power`, { token, params: { id: hostId }, body: { action: "on", bootFromNetwork: true } });
    expect(wol.status).toBe(400);
    expect(wol.body.error.message).toMatch(/power driver \(wol\) cannot choose the next boot device; set the machine to boot from the network in its firmware instead\.$/);
    const bad = await callRoute<{ error: { message: string } }>(hostPower.POST, "POST", `/api/v1/hosts/${hostId}/power`, { token, params: { id: hostId }, body: { action: "on", bootFromNetwork: "yes" } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/\w/);
  });
});
