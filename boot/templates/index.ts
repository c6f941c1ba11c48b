// The built-in templates: public, read-only, seeded into the database at start (a new
// Kiln release that changes one adds a version; a deployment keeps the version it used).
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { LOCAL_BOOT_TEMPLATE } from "./local-boot";

export type BuiltinTemplate = {
  key: string;
  name: string;
  description: string;
  kind: "system" | "unattended";
  format: "ipxe" | "preseed" | "kickstart" | "cloud-init" | "script";
  /** A file under boot/templates, or the source itself (for scripts the web server renders directly). */
  file?: string;
  source?: string;
  /** The unattended template a system template is meant to be paired with. */
  pairsWith?: string;
  variables: { name: string; description: string; default?: string }[];
};

const COMMON_VARS = [
  { name: "console", description: "Kernel console arguments", default: "console=tty0 console=ttyS0,115200" },
  { name: "kernel_args", description: "Extra kernel arguments", default: "" },
];

export const BUILTIN_TEMPLATES: BuiltinTemplate[] = [
  { key: "local-boot", name: "Local boot", description: "Boot from the local disk (BIOS and UEFI).", kind: "system", format: "ipxe", source: LOCAL_BOOT_TEMPLATE, variables: [] },
  {
    key: "debian-12-netinstall",
    name: "Debian 12 netinstall",
    description: "Network install of Debian 12 answered by a preseed.",
    kind: "system",
    format: "ipxe",
    file: "system/debian-12-netinstall.ipxe.j2",
    pairsWith: "debian-12-preseed",
    // The installer comes from Kiln's install media (docs/install-media.md) unless one of the first two is set.
    variables: [
      { name: "installer_url", description: "Directory with the installer's linux and initrd.gz (default: served by Kiln)" },
      { name: "mirror", description: "Debian mirror URL to fetch the installer from instead of Kiln" },
      { name: "suite", description: "Suite (with mirror)", default: "bookworm" },
      ...COMMON_VARS,
    ],
  },
  {
    key: "ubuntu-2404-autoinstall",
    name: "Ubuntu 24.04 autoinstall",
    description: "Ubuntu 24.04 LTS live-server install driven by cloud-init autoinstall.",
    kind: "system",
    format: "ipxe",
    file: "system/ubuntu-2404-autoinstall.ipxe.j2",
    pairsWith: "ubuntu-2404-cloud-init",
    variables: [{ name: "release_url", description: "Release directory", default: "https://releases.ubuntu.com/24.04" }, { name: "iso_url", description: "Live-server ISO URL" }, ...COMMON_VARS],
  },
  {
    key: "rocky-9-kickstart",
    name: "Rocky Linux 9 kickstart",
    description: "Rocky Linux 9 network install driven by a kickstart.",
    kind: "system",
    format: "ipxe",
    file: "system/rocky-9-kickstart.ipxe.j2",
    pairsWith: "rocky-9-ks",
    variables: [{ name: "repo", description: "BaseOS repository URL", default: "https://dl.rockylinux.org/pub/rocky/9/BaseOS/x86_64/os" }, ...COMMON_VARS],
  },
  { key: "deploy-image", name: "Deploy image", description: "Boot Kiln's deploy ramdisk to write a disk image.", kind: "system", format: "ipxe", file: "system/deploy-image.ipxe.j2", variables: [{ name: "disk", description: "Target disk (default: the first disk)" }, ...COMMON_VARS] },
  { key: "boot-diskless", name: "Boot diskless", description: "Boot Kiln's deploy ramdisk to start an image from the machine's copy-on-write network root (NBD), without writing the disk.", kind: "system", format: "ipxe", file: "system/boot-diskless.ipxe.j2", variables: [...COMMON_VARS] },
  { key: "wipe-disk", name: "Wipe disks", description: "Boot Kiln's deploy ramdisk to erase the disks (used at the end of a lease).", kind: "system", format: "ipxe", file: "system/wipe-disk.ipxe.j2", variables: [{ name: "disk", description: "Disk to wipe (default: every disk)" }, ...COMMON_VARS] },
  { key: "commission", name: "Commission", description: "Boot Kiln's deploy ramdisk in inventory mode: report the hardware, then switch off (new machines, and an admin's Commission).", kind: "system", format: "ipxe", file: "system/commission.ipxe.j2", variables: [...COMMON_VARS] },
  { key: "capture-disk", name: "Capture disk to image", description: "Boot Kiln's deploy ramdisk to upload the disk as a new image version.", kind: "system", format: "ipxe", file: "system/capture-disk.ipxe.j2", variables: [{ name: "disk", description: "Disk to capture (default: the first disk)" }, ...COMMON_VARS] },
  {
    key: "debian-12-preseed",
    name: "Debian 12 preseed",
    description: "Unattended Debian 12 install with the holder's SSH keys.",
    kind: "unattended",
    format: "preseed",
    file: "unattended/debian-12.preseed.j2",
    variables: [
      { name: "disk", description: "Install disk (default: the first disk)" },
      { name: "timezone", description: "Time zone", default: "Etc/UTC" },
      { name: "username", description: "Login created for you", default: "kiln" },
      { name: "mirror_host", description: "Mirror host", default: "deb.debian.org" },
      { name: "apt_proxy", description: "HTTP proxy for packages, e.g. a lab's apt-cacher-ng (http://host:3142/)" },
      { name: "tasks", description: "tasksel tasks", default: "standard, ssh-server" },
    ],
  },
  {
    key: "ubuntu-2404-cloud-init",
    name: "Ubuntu 24.04 autoinstall (cloud-init)",
    description: "Autoinstall user-data with the holder's SSH keys.",
    kind: "unattended",
    format: "cloud-init",
    file: "unattended/ubuntu-2404.cloud-init.j2",
    variables: [
      { name: "disk", description: "Install disk (default: the largest)" },
      { name: "timezone", description: "Time zone", default: "Etc/UTC" },
      { name: "username", description: "Login created for you", default: "kiln" },
    ],
  },
  {
    key: "rocky-9-ks",
    name: "Rocky Linux 9 kickstart",
    description: "Kickstart with the holder's SSH keys for root.",
    kind: "unattended",
    format: "kickstart",
    file: "unattended/rocky-9.ks.j2",
    variables: [
      { name: "disk", description: "Install disk", default: "sda" },
      { name: "timezone", description: "Time zone", default: "Etc/UTC" },
    ],
  },
  {
    key: "cloud-init-basic",
    name: "cloud-init basics",
    description: "Hostname, a user with the holder's SSH keys, packages; phones home when done.",
    kind: "unattended",
    format: "cloud-init",
    file: "unattended/cloud-init-basic.j2",
    variables: [{ name: "username", description: "Login created for you", default: "kiln" }],
  },
];

export function readBuiltinSource(t: BuiltinTemplate): string {
  if (t.source !== undefined) return t.source;
  // Beside this module in the sources; from the working directory (the project root, where
  // npm start runs) when this module was bundled into .build/.
  const beside = path.join(path.dirname(fileURLToPath(import.meta.url)), t.file!);
  return readFileSync(existsSync(beside) ? beside : path.join(process.cwd(), "boot", "templates", t.file!), "utf8");
}
