// The WireGuard devices table: a person's own on /access, everyone's (with owners) in the admin
// console. Revoke confirms first, then the page refreshes without the device.
import { Badge } from "../ui/badge";
import { DeleteButton } from "../ui/delete-button";
import { formatDateTime } from "../ui/format";
import { Table } from "../ui/table";

export type VpnDeviceItem = {
  id: string;
  name: string;
  address: string;
  publicKey: string;
  keyOrigin: "browser" | "server" | "pasted";
  createdAt: string;
  owner?: { email: string; name: string };
};

const ORIGIN: Record<VpnDeviceItem["keyOrigin"], string> = { browser: "made in the browser", server: "made by Kiln", pasted: "pasted" };

export function VpnDeviceTable({ devices, admin = false }: { devices: VpnDeviceItem[]; admin?: boolean }) {
  const columns = [
    ...(admin ? [{ label: "Owner" }] : []),
    { label: "Device" },
    { label: "Tunnel address" },
    { label: "Public key" },
    { label: "Added" },
    { label: "Actions", srOnly: true },
  ];
  return (
    <Table columns={columns}>
      {devices.map((d) => (
        <tr key={d.id} data-testid={`vpn-device-${d.name}`}>
          {admin ? (
            <td className="px-4 py-2">
              <div className="font-medium text-stone-800">{d.owner?.name || d.owner?.email}</div>
              {d.owner?.name ? <div className="text-xs text-stone-500">{d.owner.email}</div> : null}
            </td>
          ) : null}
          <td className="px-4 py-2 font-medium text-stone-800">{d.name}</td>
          <td className="px-4 py-2 font-mono text-xs">{d.address}</td>
          <td className="px-4 py-2">
            <span className="font-mono text-xs" title={d.publicKey}>
              {d.publicKey.slice(0, 12)}…
            </span>{" "}
            <Badge tone="stone">{ORIGIN[d.keyOrigin]}</Badge>
          </td>
          <td className="px-4 py-2 whitespace-nowrap">{formatDateTime(d.createdAt)}</td>
          <td className="px-4 py-2 text-right whitespace-nowrap">
            {admin ? null : (
              <a
                href={`/api/v1/me/vpn-devices/${d.id}/wireguard.conf`}
                className="mr-3 text-sm text-kiln-700 hover:underline"
                title="Kiln does not keep private keys: the file has a line for you to put this device's private key in."
              >
                Download file
              </a>
            )}
            <DeleteButton
              label="Revoke"
              title={`Revoke ${d.name}?`}
              explanation={`${d.name} (${d.address}) can no longer connect once the lab's gateway next reads its peer list, and its address is given to the next device added. This cannot be undone: to use the device again, add it anew.`}
              url={admin ? `/api/v1/vpn-devices/${d.id}` : `/api/v1/me/vpn-devices/${d.id}`}
              confirmLabel="Revoke"
              testId={`revoke-${d.name}`}
            />
          </td>
        </tr>
      ))}
    </Table>
  );
}
