// Local boot is answered on every idle boot request, so its template lives in code:
// the web server renders it without reading files from disk.
//
// Both branches rely on the machine trying the network before its disk. UEFI answers `exit 1`,
// not `exit 0`: firmware takes a boot option that returns success as finished and stops at its
// boot menu (OVMF starts UiApp), while an error makes it try its next entry, the disk. Checked
// under OVMF with snponly.efi chained by the firmware and with QEMU's iPXE ROM, and under
// SeaBIOS (sanboot itself boots drive 0x80; the `|| exit 1` fallback is not taken), each
// booting lib/lab's test image to its marker.
// Debian 12's full ipxe.efi hangs on its way back to OVMF after `exit`: chain snponly.efi.
export const LOCAL_BOOT_TEMPLATE = `#!ipxe
# Kiln: boot {{ host.name }} from its local disk.
# BIOS: hand over to the first disk; UEFI: leave iPXE so the firmware boots its next entry.
# kiln_local tells Kiln's chain script that this exit is the answer, not a NIC that failed.
set kiln_local 1
iseq \${platform} efi && goto uefi ||
echo Kiln: {{ host.name }} boots from its local disk (BIOS)
sanboot --no-describe --drive 0x80 || exit 1
:uefi
echo Kiln: {{ host.name }} boots from its local disk (UEFI)
exit 1
`;
