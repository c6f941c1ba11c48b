// Fixed iPXE scripts: the chain script labs embed or hand out by DHCP, local boot,
// and the answers to requests Kiln cannot serve. All plain text starting with #!ipxe.
import { compileTemplate, renderCompiled } from "./template";
import { LOCAL_BOOT_TEMPLATE } from "./templates/local-boot";

/**
 * Tries each NIC in turn (the dissertation's Listing A.3): DHCP on it, then ask Kiln what
 * this machine should do. ${netX/mac:hexhyp} gives the MAC with hyphens, URL-safe.
 */
export function chainScript(baseUrl: string): string {
  const nics = [0, 1, 2, 3]
    .map(
      // A local-boot answer exits with an error on purpose (UEFI then boots its next entry) and
      // sets kiln_local: leave at once rather than try the next NIC and say it failed.
      (n) => `isset \${net${n}/mac} && dhcp net${n} && chain --autofree ${baseUrl}/boot/\${net${n}/mac:hexhyp}?hostname=\${hostname:uristring} || iseq \${kiln_local} 1 && exit 1 || echo Kiln: net${n} could not reach ${baseUrl}`,
    )
    .join("\n");
  return `#!ipxe
# Kiln chain script: ask ${baseUrl} what this machine should do, through the first NIC that works.
${nics}
echo Kiln: no interface reached ${baseUrl}; booting from the local disk
iseq \${platform} efi && exit 1 ||
sanboot --no-describe --drive 0x80 || exit 1
`;
}

const localBoot = compileTemplate(LOCAL_BOOT_TEMPLATE);

export function localBootScript(hostName: string): string {
  return renderCompiled(localBoot, { host: { name: hostName } });
}

/** An answer iPXE prints and then leaves (the firmware goes on to its next boot device). */
export function errorScript(message: string): string {
  const safe = message.replace(/[\r\n$]/g, " ");
  return `#!ipxe
echo Kiln: ${safe}
sleep 5
exit 1
`;
}
