import { describe, expect, it } from "vitest";
import { copyIpxeCommand, dnsmasqFullSnippet, dnsmasqProxySnippet, embeddedIpxeSnippet, iscDhcpdSnippet, SNIPPET_PLACEHOLDERS } from "./dhcp-snippets";

const chainUrl = "http://kiln.lab:3001/boot/chain.ipxe";

describe("DHCP snippets", () => {
  it("show the placeholders a lab replaces, and Kiln's chain URL for machines already in iPXE", () => {
    const proxy = dnsmasqProxySnippet({ chainUrl });
    expect(proxy).toContain(`dhcp-range=${SNIPPET_PLACEHOLDERS.subnet},proxy`);
    expect(proxy).toContain(`tftp-root=${SNIPPET_PLACEHOLDERS.tftpRoot}`);
    expect(proxy).toContain(`pxe-service=tag:ipxe,x86PC,"Kiln",${chainUrl}`);
    expect(proxy).toContain(`pxe-service=tag:ipxe,X86-64_EFI,"Kiln",${chainUrl}`);
    const full = dnsmasqFullSnippet({ chainUrl });
    expect(full).toContain(`dhcp-range=${SNIPPET_PLACEHOLDERS.rangeStart},${SNIPPET_PLACEHOLDERS.rangeEnd},12h`);
    expect(full).toContain(`dhcp-boot=tag:ipxe,${chainUrl}`);
    expect(iscDhcpdSnippet({ chainUrl })).toContain(`filename "${chainUrl}";`);
    expect(embeddedIpxeSnippet({ chainUrl })).toContain(`curl -o kiln.ipxe ${chainUrl}`);
  });

  it("hand PXE firmware without iPXE the BIOS or the UEFI build over TFTP, and never the full ipxe.efi", () => {
    for (const text of [dnsmasqProxySnippet({ chainUrl }), dnsmasqFullSnippet({ chainUrl }), iscDhcpdSnippet({ chainUrl })]) {
      expect(text).toContain("undionly.kpxe");
      expect(text).toContain("snponly.efi");
      expect(text).not.toContain("ipxe.efi\n");
    }
    expect(dnsmasqFullSnippet({ chainUrl })).toMatch(/^dhcp-boot=tag:!ipxe,tag:bios,undionly\.kpxe$/m);
    expect(dnsmasqFullSnippet({ chainUrl })).toMatch(/^dhcp-boot=tag:!ipxe,tag:efi64,snponly\.efi$/m);
    expect(copyIpxeCommand()).toBe("cp /usr/lib/ipxe/{undionly.kpxe,snponly.efi} /srv/tftp/");
  });

  it("fill in a given network in place of the placeholders, and nothing else changes", () => {
    const net = { subnet: "10.213.0.0", rangeStart: "10.213.0.100", rangeEnd: "10.213.0.200", router: "10.213.0.1", tftpRoot: "/tmp/tftp" };
    const filled = dnsmasqFullSnippet({ chainUrl, ...net });
    expect(filled).not.toMatch(/10\.1\.0\./);
    const back = filled
      .replaceAll(net.rangeStart, SNIPPET_PLACEHOLDERS.rangeStart)
      .replaceAll(net.rangeEnd, SNIPPET_PLACEHOLDERS.rangeEnd)
      .replaceAll(net.router, SNIPPET_PLACEHOLDERS.router)
      .replaceAll(net.tftpRoot, SNIPPET_PLACEHOLDERS.tftpRoot)
      .replace("10.213.0.x", "10.1.0.x");
    expect(back).toBe(dnsmasqFullSnippet({ chainUrl }));
    expect(dnsmasqProxySnippet({ chainUrl, ...net }).replaceAll(net.subnet, SNIPPET_PLACEHOLDERS.subnet).replace(net.tftpRoot, SNIPPET_PLACEHOLDERS.tftpRoot)).toBe(dnsmasqProxySnippet({ chainUrl }));
  });
});
