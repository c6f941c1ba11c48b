// /admin/network-boot — how to point a lab's DHCP at Kiln: dnsmasq (proxy-DHCP or the network's DHCP server) and ISC dhcpd snippets
import { requirePageAdmin } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { getBootUrlStatus } from "@/lib/sites/boot-url-status";
import { copyIpxeCommand, dnsmasqFullSnippet, dnsmasqProxySnippet, embeddedIpxeSnippet, iscDhcpdSnippet } from "@/lib/sites/dhcp-snippets";

export const metadata = { title: "Network boot" };
export const dynamic = "force-dynamic";

/** `blocked`: why the snippet would not work yet (greyed, with the reason, until KILN_BOOT_URL is set). */
function Snippet({ title, children, note, blocked }: { title: string; children: string; note?: string; blocked?: string }) {
  return (
    <section className="space-y-2" aria-disabled={blocked ? true : undefined} data-testid="dhcp-snippet">
      <h2 className={`text-lg font-semibold ${blocked ? "text-stone-400" : ""}`}>{title}</h2>
      {note ? <p className="text-sm text-stone-600">{note}</p> : null}
      {blocked ? <p className="text-sm font-medium text-amber-800">Not usable yet: {blocked}</p> : null}
      <pre className={`overflow-auto rounded-md p-4 font-mono text-xs leading-5 ${blocked ? "select-none bg-stone-200 text-stone-400" : "bg-stone-900 text-stone-100"}`}>{children}</pre>
    </section>
  );
}

export default async function NetworkBootPage() {
  await requirePageAdmin("/admin/network-boot");
  const { url, chainUrl: chain, warning } = await getBootUrlStatus(getAppDb());
  // The admin layout's banner says what is wrong; each snippet says why it is greyed.
  const blocked = warning ? `it points machines at ${url}, which they cannot reach. Set KILN_BOOT_URL first.` : undefined;
  return (
    <div className="space-y-6">
      <div>
        <h1 className="text-2xl font-semibold">Network boot</h1>
        <p className="text-sm text-stone-600">
          Machines reach Kiln at <code className="font-mono">{url}</code> (KILN_BOOT_URL, or the default site's boot URL). PXE firmware loads iPXE over TFTP; iPXE then fetches{" "}
          <code className="font-mono">{chain}</code>, which asks Kiln what each machine should do at <code className="font-mono">/boot/&lt;mac&gt;</code>. iPXE
          binaries come from Debian&apos;s <code>ipxe</code> package (<code>/usr/lib/ipxe</code>): <code>undionly.kpxe</code> for BIOS, <code>snponly.efi</code> for
          UEFI (Debian 12&apos;s full <code>ipxe.efi</code> hangs when a machine is told to boot its own disk).
        </p>
      </div>
      <p className="text-sm text-stone-600" data-testid="dhcp-snippets-tested">
        Both dnsmasq snippets are booted by Kiln&apos;s own test suite, exactly as shown here (with the test network&apos;s subnet filled in): on a private network, a
        UEFI machine without iPXE PXE-boots through the proxy-DHCP one beside an existing DHCP server, gets <code>snponly.efi</code> over TFTP and deploys
        an image; a BIOS machine with iPXE deploys one through the other (<code>lib/sites/lab-network.int.test.ts</code>, see <code>docs/dhcp.md</code>).
      </p>
      <Snippet
        blocked={blocked}
        title="dnsmasq as proxy-DHCP (beside your existing DHCP server)"
        note={`dnsmasq answers only the PXE part of DHCP, so the lab's DHCP server stays as it is. Copy the iPXE binaries to /srv/tftp first: ${copyIpxeCommand()}`}
      >
        {dnsmasqProxySnippet({ chainUrl: chain })}
      </Snippet>
      <Snippet
        blocked={blocked}
        title="dnsmasq as the boot network's DHCP server"
        note={`For a boot network of its own, where dnsmasq hands out the addresses too. Copy the iPXE binaries to /srv/tftp first: ${copyIpxeCommand()}`}
      >
        {dnsmasqFullSnippet({ chainUrl: chain })}
      </Snippet>
      <Snippet blocked={blocked} title="ISC dhcpd (if you run the lab's DHCP yourself)" note="Not booted by a test: the same decisions as the dnsmasq snippets, written for dhcpd.">
        {iscDhcpdSnippet({ chainUrl: chain })}
      </Snippet>
      <Snippet blocked={blocked} title="Or build Kiln's chain script into iPXE" note="For NICs whose firmware cannot chain-load, build an iPXE image that runs the chain script itself:">
        {embeddedIpxeSnippet({ chainUrl: chain })}
      </Snippet>
      <p className="text-sm text-stone-600">
        Machines that boot and are not yet known appear under Admin → Hosts as <strong>new</strong>; accept them into a pool to make them leasable. Kiln answers
        unknown and idle machines with a local-disk boot, so pointing DHCP at Kiln never stops a machine from booting its installed system.
      </p>
    </div>
  );
}
