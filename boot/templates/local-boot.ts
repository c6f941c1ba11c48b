// Local boot is answered on every idle boot request, so its template lives in code:
// the web server renders it without reading files from disk.
//
// BIOS: sanboot boots drive 0x80 itself (checked under SeaBIOS; the `|| exit 1` fallback is not
// taken). UEFI: iPXE chains Kiln's GRUB program (/boot/efi/local-boot.efi, docs/uefi.md), which
// finds the disk's EFI loader and starts it. The path is relative (no leading slash): iPXE
// resolves it against the URL this script came from (<boot URL>/boot/<mac>), so it names the same
// server and any path prefix in KILN_BOOT_URL, and the answer stays the same bytes everywhere.
// When that fails (a Kiln without grub-efi-amd64-bin answers 503, Secure Boot refuses the
// unsigned GRUB, or GRUB finds no loader and returns) iPXE exits with `exit 1`, not `exit 0`:
// firmware takes a boot option that returns success as finished and stops at its boot menu
// (OVMF starts UiApp), while an error makes it try its next entries and then the disk, ~14 s
// later under OVMF/TCG (its own PXE and HTTP entries, IPv4 and IPv6, come first). Checked under
// OVMF with QEMU's iPXE ROM (lib/boot/efi-local-boot.int.test.ts) and with snponly.efi.
// Debian 12's full ipxe.efi hangs on its way back to OVMF after `exit`: chain snponly.efi.
export const LOCAL_BOOT_TEMPLATE = `#!ipxe
# Kiln: boot {{ host.name }} from its local disk.
# BIOS: hand over to the first disk; UEFI: Kiln's GRUB starts the disk's own EFI loader.
# kiln_local tells Kiln's chain script that this exit is the answer, not a NIC that failed.
set kiln_local 1
iseq \${platform} efi && goto uefi ||
echo Kiln: {{ host.name }} boots from its local disk (BIOS)
sanboot --no-describe --drive 0x80 || exit 1
:uefi
echo Kiln: {{ host.name }} boots from its local disk (UEFI)
chain --autofree efi/local-boot.efi ||
echo Kiln: no disk loader started; leaving iPXE for the firmware's next boot entry
exit 1
`;
