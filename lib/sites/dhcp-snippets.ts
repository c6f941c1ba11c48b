// The DHCP configuration the admin page tells a lab to paste. Pure text from plain inputs, so
// lib/sites/lab-network.int.test.ts can run dnsmasq with exactly these bytes (its own subnet,
// TFTP directory and boot URL filled in) and boot QEMU machines through them.
//
// Both dnsmasq variants send machines that already run iPXE (user class "iPXE") straight to
// the chain script, and everything else a TFTP copy of Debian's iPXE first: undionly.kpxe for
// BIOS (client arch 0), snponly.efi for x86-64 UEFI (arch 7, which dnsmasq calls X86-64_EFI;
// some firmware sends 9, dnsmasq's BC_EFI, which both variants also match). snponly.efi drives the NIC through the firmware's own network
// stack, and returns cleanly to the firmware on `exit`; Debian 12's full ipxe.efi hangs there
// (boot/templates/local-boot.ts), which would break Kiln's UEFI local-boot answer.

/** The placeholders the admin page shows; a lab replaces them with its own. */
export const SNIPPET_PLACEHOLDERS = {
  subnet: "10.1.0.0",
  rangeStart: "10.1.0.100",
  rangeEnd: "10.1.0.200",
  router: "10.1.0.1",
  tftpServer: "10.1.0.2",
  tftpRoot: "/srv/tftp",
} as const;

export type DhcpSnippetParams = {
  /** Kiln's chain script as machines reach it: `<boot URL>/boot/chain.ipxe`. */
  chainUrl: string;
  /** The boot network's address (proxy-DHCP answers only there). */
  subnet?: string;
  /** The addresses dnsmasq hands out when it is the network's DHCP server. */
  rangeStart?: string;
  rangeEnd?: string;
  /** The default gateway dnsmasq tells machines, when it is the network's DHCP server. */
  router?: string;
  /** The TFTP server holding the iPXE binaries (ISC dhcpd's next-server). */
  tftpServer?: string;
  /** Where the iPXE binaries are copied to, served by dnsmasq's TFTP. */
  tftpRoot?: string;
};

/** The iPXE binaries a lab copies into its TFTP directory, from Debian's `ipxe` package. */
export const IPXE_BINARIES = ["undionly.kpxe", "snponly.efi"] as const;
export const IPXE_DIR = "/usr/lib/ipxe";

function fill(p: DhcpSnippetParams): Required<DhcpSnippetParams> {
  const d = SNIPPET_PLACEHOLDERS;
  return {
    chainUrl: p.chainUrl,
    subnet: p.subnet ?? d.subnet,
    rangeStart: p.rangeStart ?? d.rangeStart,
    rangeEnd: p.rangeEnd ?? d.rangeEnd,
    router: p.router ?? d.router,
    tftpServer: p.tftpServer ?? d.tftpServer,
    tftpRoot: p.tftpRoot ?? d.tftpRoot,
  };
}

export function copyIpxeCommand(p: { tftpRoot?: string } = {}): string {
  return `cp ${IPXE_DIR}/{${IPXE_BINARIES.join(",")}} ${p.tftpRoot ?? SNIPPET_PLACEHOLDERS.tftpRoot}/`;
}

/** dnsmasq beside the lab's own DHCP server: it answers only the PXE part of each request. */
export function dnsmasqProxySnippet(params: DhcpSnippetParams): string {
  const p = fill(params);
  return `# /etc/dnsmasq.d/kiln.conf — replace ${p.subnet} with your boot subnet
port=0                        # no DNS
dhcp-range=${p.subnet},proxy     # proxy-DHCP: addresses still come from your DHCP server
enable-tftp
tftp-root=${p.tftpRoot}

# Machines already running iPXE get Kiln's chain script; others get iPXE first.
dhcp-userclass=set:ipxe,iPXE
pxe-service=tag:ipxe,x86PC,"Kiln",${p.chainUrl}
pxe-service=tag:ipxe,X86-64_EFI,"Kiln",${p.chainUrl}
pxe-service=tag:ipxe,BC_EFI,"Kiln",${p.chainUrl}
pxe-service=tag:!ipxe,x86PC,"iPXE (BIOS)",undionly.kpxe
pxe-service=tag:!ipxe,X86-64_EFI,"iPXE (UEFI)",snponly.efi
pxe-service=tag:!ipxe,BC_EFI,"iPXE (UEFI)",snponly.efi`;
}

/** dnsmasq as the boot network's only DHCP server: addresses and the boot hand-off alike. */
export function dnsmasqFullSnippet(params: DhcpSnippetParams): string {
  const p = fill(params);
  return `# /etc/dnsmasq.d/kiln.conf — replace ${p.subnet.replace(/\.0$/, ".x")} with your boot network's addresses
port=0                        # no DNS
dhcp-range=${p.rangeStart},${p.rangeEnd},12h   # the addresses machines get
dhcp-option=option:router,${p.router}
enable-tftp
tftp-root=${p.tftpRoot}

# Machines already running iPXE get Kiln's chain script; PXE firmware gets iPXE first.
# (Only arch 0 gets the BIOS file: UEFI HTTP-boot clients, arch 16, are left alone.)
dhcp-userclass=set:ipxe,iPXE
dhcp-match=set:bios,option:client-arch,0
dhcp-match=set:efi64,option:client-arch,7
dhcp-match=set:efi64,option:client-arch,9
dhcp-boot=tag:ipxe,${p.chainUrl}
dhcp-boot=tag:!ipxe,tag:bios,undionly.kpxe
dhcp-boot=tag:!ipxe,tag:efi64,snponly.efi`;
}

/** ISC dhcpd, for labs that run it: the lines to add inside the boot subnet's block. */
export function iscDhcpdSnippet(params: DhcpSnippetParams): string {
  const p = fill(params);
  return `# /etc/dhcp/dhcpd.conf, inside your subnet { } block
option arch code 93 = unsigned integer 16;
next-server ${p.tftpServer};                       # the TFTP server holding the iPXE binaries
if exists user-class and option user-class = "iPXE" {
  filename "${p.chainUrl}";
} elsif option arch = 00:07 or option arch = 00:09 {
  filename "snponly.efi";                   # UEFI
} else {
  filename "undionly.kpxe";                 # BIOS
}`;
}

/** For NICs whose firmware cannot chain-load: an iPXE build that runs the chain script itself. */
export function embeddedIpxeSnippet(params: Pick<DhcpSnippetParams, "chainUrl">): string {
  return `git clone https://github.com/ipxe/ipxe && cd ipxe/src
curl -o kiln.ipxe ${params.chainUrl}
make bin/undionly.kpxe bin-x86_64-efi/snponly.efi EMBED=kiln.ipxe`;
}
