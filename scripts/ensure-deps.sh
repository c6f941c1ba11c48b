#!/usr/bin/env bash
# Installs the Debian packages the tests need when they are missing: slapd and
# ldap-utils (integration tests' private LDAP server), chromium (Playwright e2e), QEMU
# with its iPXE ROMs and OVMF plus busybox (real network boots), OpenIPMI's BMC simulator
# and ipmitool (IPMI power), wakeonlan (a second Wake-on-LAN sender to compare with), syslinux, mtools,
# dosfstools, systemd-boot-efi and zstd (lab/'s bootable test image and its .zst), grub-common and
# grub-efi-amd64-bin (UEFI local boot's GRUB program, which Kiln builds at start: docs/uefi.md) with
# shim-signed and grub-efi-amd64-signed (the Secure Boot chain the UEFI local-boot test boots), and what
# scripts/build-ramdisk.sh needs (cpio, kmod's depmod, zstd and xz; the ramdisk's own tools
# are downloaded as packages), curl and the CA bundle, iproute2 and dnsmasq-base (a private lab network
# booted through the admin page's DHCP snippets), debootstrap, e2fsprogs and openssh-client (the
# cloud-init tests' Debian 12 cloud image, and logging in to it), git (post-install repositories),
# OpenStack Swift (python3-swift: an S3 service for the S3 image backend's test). With --bench it also
# installs nginx-light, the baseline of bench/boot-storm, and the load tools wrk and pgbench. With --install (npm run test:install)
# it also installs the Debian installer's netboot images (the media Kiln serves) and apt-cacher-ng
# (the test runs its own instance on a loopback port; a system service the package may start is
# not used).
# Silent when everything is present. Runs apt-get as root (directly, or through sudo).
set -euo pipefail

# command → package that provides it. slapd lives in /usr/sbin, which is not in every PATH.
declare -A NEEDS=(
  [slapd]=slapd
  [slaptest]=slapd
  [slappasswd]=slapd
  [ldapadd]=ldap-utils
  [ldapsearch]=ldap-utils
  [chromium]=chromium
  [qemu-system-x86_64]=qemu-system-x86
  # lib/pi/qemu-arm64.int.test.ts: an arm64 `virt` machine booting the kernel Kiln's TFTP served
  [qemu-system-aarch64]=qemu-system-arm
  [qemu-img]=qemu-utils
  [busybox]=busybox-static
  [ipmi_sim]=openipmi
  [ipmitool]=ipmitool
  # gives ipmitool's Serial-over-LAN console a pty (lib/console/sources.ts)
  [socat]=socat
  # a private lab network in a test (lib/sites/lab-network.int.test.ts): namespaces, bridge and
  # taps, and the DHCP/TFTP server the admin page's snippets configure
  [ip]=iproute2
  [dnsmasq]=dnsmasq-base
  [wakeonlan]=wakeonlan
  [syslinux]=syslinux
  [mcopy]=mtools
  [mkfs.fat]=dosfstools
  [zstd]=zstd
  [cpio]=cpio
  [depmod]=kmod
  [curl]=curl
  [xz]=xz-utils
  [sfdisk]=fdisk
  # scripts/build-cloud-image.sh (Debian 12 (cloud image) for the cloud-init tests), and the ssh
  # client those tests log in with.
  [debootstrap]=debootstrap
  [mke2fs]=e2fsprogs
  [ssh]=openssh-client
  [ssh-keygen]=openssh-client
  # git http-backend serves the post-install tests their repositories (lib/deployments/post-install.int.test.ts)
  [git]=git
  # builds /boot/efi/local-boot.efi, UEFI local boot's GRUB program (docs/uefi.md)
  [grub-mkstandalone]=grub-common
  # lib/vpn/openvpn.int.test.ts: a real OpenVPN server (openvpn-auth-ldap against the test's slapd)
  # and client; openssl makes its CA and server certificate.
  [openvpn]=openvpn
  [openssl]=openssl
  # the real WireGuard tunnel of lib/vpn/gateway.int.test.ts: the userspace implementation (no kernel
  # module needed), wg to configure it, nft for the gateway's rules, ping through the tunnel.
  # --no-install-recommends matters here: wireguard-tools recommends wireguard-modules | linux-image,
  # which would pull a whole kernel.
  [wireguard-go]=wireguard-go
  [wg]=wireguard-tools
  [nft]=nftables
  [ping]=iputils-ping
)
# Files rather than commands: the NIC option ROMs (iPXE) and UEFI firmware QEMU boots with, and the boot
# loaders the test image carries.
declare -A FILES=(
  [/usr/lib/ipxe/qemu/efi-virtio.rom]=ipxe-qemu
  [/usr/share/OVMF/OVMF_CODE_4M.fd]=ovmf
  [/usr/lib/ipxe/undionly.kpxe]=ipxe
  [/usr/lib/syslinux/mbr/mbr.bin]=syslinux-common
  [/usr/lib/systemd/boot/efi/systemd-bootx64.efi]=systemd-boot-efi
  # GRUB's x86_64-efi modules (the files only: the host's own boot loader is not touched).
  [/usr/lib/grub/x86_64-efi/kernel.img]=grub-efi-amd64-bin
  # Debian's Secure Boot chain (signed shim, signed network GRUB), which the UEFI local-boot test boots.
  [/usr/lib/shim/shimx64.efi.signed]=shim-signed
  [/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed]=grub-efi-amd64-signed
  [/etc/ssl/certs/ca-certificates.crt]=ca-certificates
  # Debian's arm64 netboot kernel and initrd (an "all" package: no foreign architecture needed), the
  # arm64 machine lib/pi/qemu-arm64.int.test.ts boots from files fetched over Kiln's TFTP.
  [/usr/lib/debian-installer/images/12/arm64/text/debian-installer/arm64/linux]=debian-installer-12-netboot-arm64
  # openvpn-auth-ldap: OpenVPN's password check against the directory (lib/vpn/openvpn.int.test.ts).
  [/usr/lib/openvpn/openvpn-auth-ldap.so]=openvpn-auth-ldap
  # OpenStack Swift and its s3api: the real S3 service the S3 image backend is tested against.
  [/usr/lib/python3/dist-packages/swift/common/middleware/s3api/s3api.py]=python3-swift
)
if [[ "${1:-}" == "--bench" ]]; then
  NEEDS[nginx]=nginx-light
  # the load tools: wrk for HTTP, pgbench for the raw SQL baselines (bench/hardware-criteria.ts)
  NEEDS[wrk]=wrk
  NEEDS[pgbench]=postgresql-client
fi
if [[ "${1:-}" == "--install" ]]; then
  NEEDS[apt-cacher-ng]=apt-cacher-ng
  FILES[/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64/initrd.gz]=debian-installer-12-netboot-amd64
fi

has_command() {
  command -v "$1" >/dev/null 2>&1 || [[ -x "/usr/sbin/$1" || -x "/sbin/$1" ]]
}

has_package() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

missing=()
for cmd in "${!NEEDS[@]}"; do
  pkg=${NEEDS[$cmd]}
  if ! has_command "$cmd" || ! has_package "$pkg"; then
    [[ " ${missing[*]-} " == *" $pkg "* ]] || missing+=("$pkg")
  fi
done

for file in "${!FILES[@]}"; do
  pkg=${FILES[$file]}
  if [[ ! -e "$file" ]]; then
    [[ " ${missing[*]-} " == *" $pkg "* ]] || missing+=("$pkg")
  fi
done

[[ ${#missing[@]} -eq 0 ]] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-deps: missing ${missing[*]}, and this is not a Debian/Ubuntu system; install them by hand." >&2
  exit 1
fi

as_root=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
  else
    echo "ensure-deps: missing ${missing[*]}; run this script as root to install them." >&2
    exit 1
  fi
fi

echo "ensure-deps: installing ${missing[*]}…"
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "ensure-deps: done."
