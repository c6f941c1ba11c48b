// /admin/vpn — every active WireGuard device with its owner; an administrator revokes any of them
import { VpnDeviceTable } from "@/components/access/vpn-device-table";
import { actorOf } from "@/lib/access/actor";
import { requirePageAdmin } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { getEnv } from "@/lib/env";
import { listAllVpnDevices } from "@/lib/vpn/devices";

export const metadata = { title: "VPN devices" };
export const dynamic = "force-dynamic";

export default async function AdminVpnPage() {
  const { user } = await requirePageAdmin("/admin/vpn");
  const env = getEnv();
  const devices = env.isVpnEnabled ? (await listAllVpnDevices(getAppDb(), actorOf(user, null))).data : [];
  return (
    <div className="space-y-4">
      <div>
        <h1 className="text-2xl font-semibold">VPN devices</h1>
        <p className="mt-1 text-sm text-stone-600">
          {env.isVpnEnabled
            ? `People's WireGuard devices into the machines' network (range ${env.KILN_VPN_ADDRESS_RANGE}, gateway ${env.KILN_VPN_ENDPOINT}). A revoked device is dropped from the gateway's peer list on its next refresh.`
            : "WireGuard is not set up on this Kiln: set KILN_VPN_ENDPOINT and KILN_VPN_SERVER_PUBLIC_KEY (docs/lab-access.md)."}
        </p>
      </div>
      {env.isVpnEnabled ? (
        devices.length ? (
          <VpnDeviceTable
            admin
            devices={devices.map((d) => ({
              id: d.id,
              name: d.name,
              address: d.address,
              publicKey: d.publicKey,
              keyOrigin: d.keyOrigin,
              createdAt: d.createdAt.toISOString(),
              owner: { email: d.ownerEmail, name: d.ownerName },
            }))}
          />
        ) : (
          <p className="rounded-lg border border-dashed border-stone-300 bg-white px-4 py-6 text-center text-sm text-stone-500">No one has added a device yet.</p>
        )
      ) : null}
    </div>
  );
}
