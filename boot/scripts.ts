// Fixed iPXE scripts: the chain script labs embed or hand out by DHCP, local boot,
// and the answers to requests Kiln cannot serve. All plain text starting with #!ipxe.
import { compileTemplate, renderCompiled } from "./template";
import { LOCAL_BOOT_TEMPLATE } from "./templates/local-boot";

/**
 * Tries each NIC in turn (the dissertation's Listing A.3): DHCP on it, then ask Kiln what
 * this machine should do. ${netX/mac:hexhyp} gives the MAC with hyphens, URL-safe; ${buildarch}
 * (i386 — the BIOS NIC ROMs are 32-bit builds —, x86_64, arm64) is the architecture a newly discovered host is recorded with.
 */
export function chainScript(baseUrl: string): string {
  const nics = [0, 1, 2, 3]
    .map(
      // A local-boot answer exits with an error on purpose (UEFI then boots its next entry) and
      // sets kiln_local: leave at once rather than try the next NIC and say it failed.
      (n) => `isset \${net${n}/mac} && dhcp net${n} && chain --autofree ${baseUrl}/boot/\${net${n}/mac:hexhyp}?hostname=\${hostname:uristring}&arch=\${buildarch} || iseq \${kiln_local} 1 && exit 1 || echo Kiln: net${n} could not reach ${baseUrl}`,
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

// Rendered once, with no name in it: an idle known host and an unknown MAC get these same
// bytes, so an unauthenticated caller cannot tell whether Kiln knows a MAC.
const LOCAL_BOOT = renderCompiled(compileTemplate(LOCAL_BOOT_TEMPLATE), { host: { name: "this machine" } });

export function localBootScript(): string {
  return LOCAL_BOOT;
}

/** Seconds between a halted machine's requests for a new answer. */
export const HALT_RECHECK_SECONDS = 60;

/**
 * The answer to a machine whose last disk write failed or was cancelled: it must not boot that
 * disk. iPXE says why, then never returns to the chain script (which would fall through to
 * local boot): it powers off where iPXE has `poweroff` (Debian 12's 2019 ROM does not), else
 * waits and asks Kiln again with `chain --replace`, so a new run or "boot the disk anyway"
 * takes effect without a power cycle. Checked under QEMU with that ROM.
 */
export function haltScript(p: { reason: string; recheckUrl: string }): string {
  // Printable ASCII only, and nothing iPXE would expand (\${…}) or take as another command (&&, ||).
  const reason = p.reason.replace(/[^\x20-\x7e]|[$&|]/g, " ").slice(0, 300);
  return `#!ipxe
# Kiln: this machine's last disk write did not finish; its disk is not booted.
echo Kiln: the last write to this machine's disk failed or was cancelled: ${reason}
echo Kiln: the disk is not booted. Start a new run, or choose "boot the disk anyway" on the host page.
poweroff ||
:halt
sleep ${HALT_RECHECK_SECONDS} || prompt --timeout ${HALT_RECHECK_SECONDS * 1000} Kiln: halted ||
chain --replace --autofree ${p.recheckUrl} || goto halt
goto halt
`;
}

/** An answer iPXE prints and then leaves (the firmware goes on to its next boot device). */
export function errorScript(message: string): string {
  const safe = message.replace(/[\r\n$&|]/g, " ");
  return `#!ipxe
echo Kiln: ${safe}
sleep 5
exit 1
`;
}
