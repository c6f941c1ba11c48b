// The UEFI half of local boot (docs/uefi.md): a GRUB EFI program Kiln builds with
// grub-mkstandalone and serves as /boot/efi/local-boot.efi. iPXE chains it under UEFI instead of
// `exit 1`, which sent OVMF through its own PXE and HTTP boot entries (IPv4 and IPv6) before the
// disk: ~14 s from Kiln's answer to the disk's loader under TCG, against ~0.3 s this way.
// It looks for the loader on the machine's own disks, as MAAS's local-boot grub.cfg does, and
// returns to iPXE (which then exits to the firmware, as before) when there is none.

/**
 * Where a disk's EFI loader lives, in the order tried; each path is searched on every disk and
 * partition GRUB sees (firmware order) before the next path. The removable-media path first, as
 * the firmware's own disk entry boots it; then the distributions' own entries (shim before GRUB:
 * shim starts grubx64.efi beside it, and is what their NVRAM entries name), then systemd-boot
 * and Windows. FAT is case-insensitive, so one spelling is enough.
 */
export const EFI_LOADER_PATHS = [
  "/efi/boot/bootx64.efi",
  "/efi/debian/shimx64.efi",
  "/efi/debian/grubx64.efi",
  "/efi/ubuntu/shimx64.efi",
  "/efi/ubuntu/grubx64.efi",
  "/efi/rocky/shimx64.efi",
  "/efi/rocky/grubx64.efi",
  "/efi/almalinux/shimx64.efi",
  "/efi/almalinux/grubx64.efi",
  "/efi/redhat/shimx64.efi",
  "/efi/redhat/grubx64.efi",
  "/efi/centos/shimx64.efi",
  "/efi/centos/grubx64.efi",
  "/efi/fedora/shimx64.efi",
  "/efi/fedora/grubx64.efi",
  "/efi/opensuse/shim.efi",
  "/efi/opensuse/grubx64.efi",
  "/efi/sles/shim.efi",
  "/efi/sles/grubx64.efi",
  "/efi/systemd/systemd-bootx64.efi",
  "/efi/microsoft/boot/bootmgfw.efi",
] as const;

/** Printed before the disk's loader is started; the tests and a person at the console read it. */
export const EFI_STARTING_PREFIX = "Kiln: starting this machine's disk loader";
export const EFI_NONE_FOUND = "Kiln: no boot loader found on this machine's disks";

/**
 * The GRUB modules built into the image, and nothing else: no network driver (GRUB must not
 * touch the NIC iPXE still holds), no file system but FAT (an ESP is FAT by specification).
 * `normal` runs the script below; the rest are what it calls (`exit`, which hands control back
 * to iPXE, is minicmd's: without it the script's last line would leave GRUB at its prompt).
 */
export const GRUB_MODULES = ["normal", "minicmd", "part_gpt", "part_msdos", "fat", "search", "search_fs_file", "chain", "echo", "test"] as const;

/**
 * GRUB's list of file systems to try on a device none of the loaded ones recognises: FAT only.
 * With Debian's list, `search` tries to load each of 39 file system modules on every disk that
 * is not FAT (a blank disk, an LVM member, the whole-disk device) and prints an error for each.
 */
export const GRUB_FS_LIST = "fat\n";

/** The grub.cfg embedded in the image. No menu, no timeout: it runs straight through. */
export const LOCAL_BOOT_GRUB_CFG = `# Kiln: boot this machine's own disk (/boot/efi/local-boot.efi, docs/uefi.md).
set timeout=0
echo "Kiln: looking for a boot loader on this machine's disks"
for loader in ${EFI_LOADER_PATHS.join(" ")}; do
  if search --no-floppy --file --set=root "$loader"; then
    echo "${EFI_STARTING_PREFIX} ($root)$loader"
    chainloader "$loader"
    boot
    # Only reached when the loader would not start (corrupt, or refused by Secure Boot): try the next.
    echo "Kiln: ($root)$loader did not start"
  fi
done
echo "${EFI_NONE_FOUND}; back to iPXE"
# minicmd's exit: leaves GRUB for its caller (iPXE), which then exits to the firmware.
exit 1
`;
