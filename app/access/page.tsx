// /access — Lab access: the person's WireGuard devices (add, download, revoke) and, where the
// lab runs it, their OpenVPN profile. Active accounts only; absent when neither is configured.
import { notFound } from "next/navigation";
import { AddDeviceDialog } from "@/components/access/add-device-dialog";
import { VpnDeviceTable } from "@/components/access/vpn-device-table";
import { Card } from "@/components/ui/card";
import { actorOf } from "@/lib/access/actor";
import { requirePageUser } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { getEnv } from "@/lib/env";
import { isLabAccessAllowed, listMyVpnDevices, MAX_VPN_DEVICES_PER_USER } from "@/lib/vpn/devices";

export const metadata = { title: "Lab access" };
export const dynamic = "force-dynamic";

export default async function LabAccessPage() {
  const { user } = await requirePageUser("/access");
  const env = getEnv();
  const openVpn = Boolean(env.KILN_OPENVPN_REMOTE);
  if (!isLabAccessAllowed(user) || (!env.isVpnEnabled && !openVpn)) notFound();
  const devices = env.isVpnEnabled ? (await listMyVpnDevices(getAppDb(), actorOf(user, null))).data : [];
  return (
    <div className="mx-auto max-w-4xl space-y-6 px-4 py-8">
      <div>
        <h1 className="text-2xl font-semibold">Lab access</h1>
        <p className="mt-1 text-sm text-stone-600">A VPN into the machines&apos; network, so you can reach the hosts you lease from wherever you are.</p>
      </div>
      {env.isVpnEnabled ? (
        <section className="space-y-3" aria-labelledby="wireguard-heading">
          <div className="flex items-end justify-between gap-4">
            <div>
              <h2 id="wireguard-heading" className="text-lg font-semibold">
                WireGuard devices
              </h2>
              <p className="text-sm text-stone-600">
                One per laptop or phone, each with its own key pair and tunnel address (up to {MAX_VPN_DEVICES_PER_USER}). Kiln keeps only public keys: a
                file downloaded from this list has a line for you to put the device&apos;s private key in.
              </p>
            </div>
            <AddDeviceDialog />
          </div>
          {devices.length ? (
            <VpnDeviceTable
              devices={devices.map((d) => ({ id: d.id, name: d.name, address: d.address, publicKey: d.publicKey, keyOrigin: d.keyOrigin, createdAt: d.createdAt.toISOString() }))}
            />
          ) : (
            <p className="rounded-lg border border-dashed border-stone-300 bg-white px-4 py-6 text-center text-sm text-stone-500" data-testid="no-vpn-devices">
              You have no devices yet. Add one to get its WireGuard file.
            </p>
          )}
        </section>
      ) : null}
      {openVpn ? (
        <Card title="OpenVPN" description="For OpenVPN clients: sign in with your lab directory account and its password.">
          <a href="/api/v1/me/openvpn.ovpn" className="text-sm font-medium text-kiln-700 hover:underline" download>
            Download your OpenVPN profile (.ovpn)
          </a>
        </Card>
      ) : null}
    </div>
  );
}
