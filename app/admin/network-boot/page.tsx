// /admin/network-boot — how to point a lab's DHCP at Kiln: dnsmasq (proxy-DHCP) and ISC dhcpd snippets
import { requirePageAdmin } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { getBootUrlStatus } from "@/lib/sites/boot-url-status";

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
          binaries come from Debian&apos;s <code>ipxe</code> package (<code>/usr/lib/ipxe</code>): <code>undionly.kpxe</code> for BIOS, <code>ipxe.efi</code> or{" "}
          <code>snponly.efi</code> for UEFI.
        </p>
      </div>
      <Snippet
        blocked={blocked}
        title="dnsmasq as proxy-DHCP (beside your existing DHCP server)"
        note="dnsmasq answers only the PXE part of DHCP, so the lab's DHCP server stays as it is. Copy the iPXE binaries to /srv/tftp first: cp /usr/lib/ipxe/{undionly.kpxe,ipxe.efi,snponly.efi} /srv/tftp/"
      >{`# /etc/dnsmasq.d/kiln.conf — replace 10.1.0.0 with your boot subnet
port=0                        # no DNS
dhcp-range=10.1.0.0,proxy     # proxy-DHCP: addresses still come from your DHCP server
enable-tftp
tftp-root=/srv/tftp

# Machines already running iPXE get Kiln's chain script; others get iPXE first.
dhcp-userclass=set:ipxe,iPXE
pxe-service=tag:ipxe,x86PC,"Kiln",${chain}
pxe-service=tag:ipxe,X86-64_EFI,"Kiln",${chain}
pxe-service=tag:!ipxe,x86PC,"iPXE (BIOS)",undionly.kpxe
pxe-service=tag:!ipxe,X86-64_EFI,"iPXE (UEFI)",snponly.efi`}</Snippet>
      <Snippet blocked={blocked} title="ISC dhcpd (if you run the lab's DHCP yourself)">{`# /etc/dhcp/dhcpd.conf, inside your subnet { } block
option arch code 93 = unsigned integer 16;
next-server 10.1.0.2;                       # the TFTP server holding the iPXE binaries
if exists user-class and option user-class = "iPXE" {
  filename "${chain}";
} elsif option arch = 00:07 or option arch = 00:09 {
  filename "snponly.efi";                   # UEFI
} else {
  filename "undionly.kpxe";                 # BIOS
}`}</Snippet>
      <Snippet blocked={blocked} title="Or build Kiln's chain script into iPXE" note="For NICs whose firmware cannot chain-load, build an iPXE image that runs the chain script itself:">{`git clone https://github.com/ipxe/ipxe && cd ipxe/src
curl -o kiln.ipxe ${chain}
make bin/undionly.kpxe bin-x86_64-efi/snponly.efi EMBED=kiln.ipxe`}</Snippet>
      <p className="text-sm text-stone-600">
        Machines that boot and are not yet known appear under Admin → Hosts as <strong>new</strong>; accept them into a pool to make them leasable. Kiln answers
        unknown and idle machines with a local-disk boot, so pointing DHCP at Kiln never stops a machine from booting its installed system.
      </p>
    </div>
  );
}
