// The host page's "Access" card: the addresses Kiln learned (where each came from, when) and
// a copyable ssh line. It says where the user name and the address came from, so a guess
// (root) or a relay's address (127.0.0.1 behind the lab's forwarder) is not taken for a fact.
import { CopyButton } from "@/components/images/copy-button";
import { Badge, type Tone } from "@/components/ui/badge";
import { formatDateTime } from "@/components/ui/format";
import type { HostAccess } from "@/lib/hosts/connection-info";
import type { HostAddressView } from "@/lib/hosts/addresses";

const SOURCE_LABEL: Record<HostAddressView["source"], { label: string; tone: Tone; title: string }> = {
  installed: { label: "installed system", tone: "green", title: "Sent by the installed system (or its installer) when it reported done." },
  agent: { label: "deploy agent", tone: "sky", title: "Reported by Kiln's deploy ramdisk from its interfaces." },
  boot: { label: "boot request", tone: "stone", title: "The source address of the machine's network-boot request, as Kiln saw it." },
};

const USER_NOTE: Record<HostAccess["userSource"], string> = {
  "run vars": "User from the run's username variable.",
  "installer answers": "User the install created (from its answers file).",
  fallback: "Kiln does not know this system's accounts (an image deployed as it is, or no run yet): root is a guess.",
};

function scopeNote(a: HostAddressView): string | null {
  if (a.scope === "loopback") return "loopback: the request reached Kiln through a relay or forwarder on Kiln's machine, not from this address";
  if (a.scope === "link-local") return "link-local: reachable only on the same network segment";
  return null;
}

export function HostAccessCard({ addresses, access }: { addresses: HostAddressView[]; access: HostAccess | null }) {
  if (addresses.length === 0) {
    return (
      <p className="text-sm text-stone-500" data-testid="host-access-empty">
        No address known yet. Kiln learns one when the machine network-boots, when its deploy agent reports, and when an installed system
        reports done.
      </p>
    );
  }
  return (
    <div className="space-y-4">
      {access ? (
        <div className="space-y-1.5">
          <div className="flex items-center gap-2 rounded-md bg-stone-900 px-3 py-2">
            <code className="min-w-0 flex-1 overflow-x-auto whitespace-nowrap font-mono text-sm text-stone-50" data-testid="ssh-command">
              {access.command}
            </code>
            <CopyButton text={access.command} label="Copy" />
          </div>
          <p className="text-xs text-stone-500" data-testid="ssh-note">
            {USER_NOTE[access.userSource]} Address from the {SOURCE_LABEL[access.addressSource].label}.
          </p>
        </div>
      ) : (
        <p className="text-sm text-stone-500" data-testid="ssh-none">
          No ssh line yet: none of these addresses can be reached from elsewhere. One comes when the deploy agent or the installed
          system reports its own.
        </p>
      )}
      <ul className="divide-y divide-stone-100 text-sm" data-testid="host-addresses">
        {addresses.map((a) => {
          const note = scopeNote(a);
          return (
            <li key={`${a.source}-${a.address}`} className="flex flex-wrap items-center gap-2 py-1.5" data-source={a.source} data-address={a.address}>
              <span className="font-mono">{a.address}</span>
              <span title={SOURCE_LABEL[a.source].title}>
                <Badge tone={SOURCE_LABEL[a.source].tone}>{SOURCE_LABEL[a.source].label}</Badge>
              </span>
              {a.mac ? <span className="font-mono text-xs text-stone-500">{a.mac}</span> : null}
              <span className="text-xs text-stone-500">seen {formatDateTime(a.seenAt)}</span>
              {note ? <span className="basis-full text-xs text-amber-700">{note}</span> : null}
            </li>
          );
        })}
      </ul>
    </div>
  );
}
