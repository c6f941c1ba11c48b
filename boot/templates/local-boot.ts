// Local boot is answered on every idle boot request, so its template lives in code:
// the web server renders it without reading files from disk.
export const LOCAL_BOOT_TEMPLATE = `#!ipxe
# Kiln: boot {{ host.name }} from its local disk.
# BIOS: hand over to the first disk; UEFI: leave iPXE so the firmware boots its next entry.
iseq \${platform} efi && goto uefi ||
echo Kiln: {{ host.name }} boots from its local disk (BIOS)
sanboot --no-describe --drive 0x80 || exit 1
:uefi
echo Kiln: {{ host.name }} boots from its local disk (UEFI)
exit 1
`;
