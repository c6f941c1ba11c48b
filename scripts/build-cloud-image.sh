#!/usr/bin/env bash
# Builds "Debian 12 (cloud image)": a raw BIOS-bootable disk image of Debian bookworm with
# cloud-init, compressed with zstd, from Debian's own packages (docs/cloud-init.md).
#
#   scripts/build-cloud-image.sh [OUTFILE]   default: ${XDG_CACHE_HOME:-~/.cache}/kiln/cloud-image/<hash>/debian-12-cloud.img.zst
#                                            (OUTFILE, when given, is a copy of the cached file)
#   scripts/build-cloud-image.sh --hash      prints the input hash and exits
#   scripts/build-cloud-image.sh --path      prints the cached image's path (building it when missing)
#
# Needs root (debootstrap and chroot) and the host packages debootstrap, e2fsprogs, fdisk,
# dosfstools, mtools, syslinux, syslinux-common, zstd (scripts/ensure-deps.sh).
#
# How: `debootstrap --variant=minbase` into a directory from the mirror apt is configured with,
# then the packages below with apt inside it (documentation, locales and kernel modules no
# server needs are never unpacked: dpkg path-excludes); the tree is made into an ext4 file
# system with `mke2fs -d` (no loop device, no mount), put after a small FAT partition that
# holds the kernel, the initramfs and syslinux (installed with its mtools installer, as
# lab/bootable-image.ts does); syslinux's mbr.bin boots the active partition under BIOS.
#
#   sector 0        MBR: mbr.bin boot code, two partitions
#   1 MiB           p1 FAT16, active: syslinux, vmlinuz, initrd.img, syslinux.cfg ("/boot" for the loader only)
#   1 MiB + 128 MiB p2 ext4 "/" (label kiln-root), last so cloud-init's growpart can grow it to the disk
#
# The image carries no datasource: Kiln's deploy agent writes /etc/cloud/cloud.cfg.d/99-kiln.cfg
# into the root file system after writing the image, naming the run's NoCloud seed URL.
# No SSH host keys and an empty machine-id are shipped: each machine makes its own on first boot.
#
# Cached by input hash (this script, the mirror and the candidate versions of the packages
# named below) under ${XDG_CACHE_HOME:-~/.cache}/kiln/cloud-image/<hash>/: a finished build is
# renamed into place whole, so concurrent builders (two test files) can only both build, never
# see half a file; a lock makes the second one wait and reuse the first one's result.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/kiln"
NAME=debian-12-cloud.img.zst
SUITE=bookworm
# What the image runs: a kernel, an init, cloud-init and what it needs to act (growpart for the
# root partition, sudo for the user it makes, tzdata for the timezone module), ssh and curl
# (the template's done report), DHCP by systemd-networkd; git for post-install configuration
# from a repository (docs/post-install.md), whose runner clones on the first boot.
PACKAGES=(
  systemd-sysv udev dbus linux-image-amd64 initramfs-tools zstd
  cloud-init cloud-guest-utils sudo tzdata locales
  openssh-server curl ca-certificates iproute2 netbase git
)
# Boot partition and kernel command line (root by the file system's UUID, written below).
BOOT_MIB=128
EPOCH=1700000000

say() { printf 'build-cloud-image: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
trap 'say "failed at line $LINENO: $BASH_COMMAND"' ERR

MODE=build
case "${1:-}" in
  --hash) MODE=hash; shift ;;
  --path) MODE=path; shift ;;
esac
OUTFILE="${1:-}"

find_cmd() { PATH="$PATH:/usr/sbin:/sbin" command -v "$1" 2>/dev/null; }
declare -A HOST_NEEDS=(
  [debootstrap]=debootstrap [mke2fs]=e2fsprogs [sfdisk]=fdisk [mkfs.fat]=dosfstools [mcopy]=mtools
  [syslinux]=syslinux [zstd]=zstd [apt-cache]=apt [flock]=util-linux
)
missing=()
for cmd in "${!HOST_NEEDS[@]}"; do find_cmd "$cmd" >/dev/null || missing+=("${HOST_NEEDS[$cmd]}"); done
[[ -f /usr/lib/syslinux/mbr/mbr.bin ]] || missing+=(syslinux-common)
((${#missing[@]} == 0)) || die "missing host packages: ${missing[*]} — run: bash scripts/ensure-deps.sh (as root)"
export PATH="$PATH:/usr/sbin:/sbin"

# The mirror apt uses for Debian's main archive (deb822 or one-line sources), else Debian's CDN.
mirror() {
  local m
  m=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }')
  [[ -n "$m" ]] || m=$(grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '$0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }' | head -n1)
  echo "${KILN_DEBIAN_MIRROR:-${m:-http://deb.debian.org/debian}}"
}
MIRROR=$(mirror)

versions() {
  local p
  for p in "${PACKAGES[@]}"; do [[ "$p" == *- ]] || echo "$p"; done |
    xargs apt-cache show --no-all-versions 2>/dev/null | awk '/^Package: / { p = $2 } /^Version: / { print p, $2 }' | sort -u
}
VERSIONS=$(versions)
[[ $(wc -l <<<"$VERSIONS") -ge 10 ]] || die "apt knows too few of ${PACKAGES[*]} (run apt-get update as root, with Debian's main archive in the sources)"
INPUT_HASH=$({ sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1; echo "$MIRROR $SUITE"; echo "$VERSIONS"; } | sha256sum | cut -c1-32)
[[ "$MODE" == hash ]] && { echo "$INPUT_HASH"; exit 0; }

DIR="$CACHE/cloud-image/$INPUT_HASH"
IMAGE="$DIR/$NAME"
finish() {
  if [[ -n "$OUTFILE" ]]; then cp "$IMAGE" "$OUTFILE.tmp.$$" && mv -f "$OUTFILE.tmp.$$" "$OUTFILE"; fi
  [[ "$MODE" == path ]] && echo "$IMAGE"
  exit 0
}
[[ -s "$IMAGE" && -s "$DIR/manifest.json" ]] && { say "up to date: $IMAGE"; finish; }
[[ $(id -u) -eq 0 ]] || die "building the image needs root (debootstrap, chroot)"

mkdir -p "$CACHE/cloud-image"
exec 9>"$CACHE/cloud-image/.lock"
flock 9
[[ -s "$IMAGE" && -s "$DIR/manifest.json" ]] && { say "built meanwhile by another process: $IMAGE"; finish; }

START=$(date +%s.%N)
WORK=$(mktemp -d "${TMPDIR:-/var/tmp}/kiln-cloud-image.XXXXXX")
T="$WORK/root"
cleanup() {
  for m in dev/pts dev proc sys; do mountpoint -q "$T/$m" 2>/dev/null && umount -l "$T/$m"; done
  rm -rf "$WORK"
}
trap cleanup EXIT
elapsed() { awk -v a="$START" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }'; }

# --- the tree -------------------------------------------------------------------------------
# Downloaded .debs are kept between builds (a changed script rebuilds without downloading again).
DEBS="$CACHE/cloud-image/debs"
mkdir -p "$DEBS"
say "debootstrap --variant=minbase $SUITE from $MIRROR…"
debootstrap --variant=minbase --cache-dir="$DEBS" "$SUITE" "$T" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
  { tail -n 30 "$WORK/debootstrap.log" >&2; die "debootstrap failed"; }
say "base system after $(elapsed) s"

# Never unpacked: documentation, manuals, translations, and kernel drivers for sound, graphics,
# cameras, radios and staging code (about half of the kernel package). Removing them later
# would leave them in the initramfs built at the kernel's installation.
cat >"$T/etc/dpkg/dpkg.cfg.d/01-kiln-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
EOF
for d in sound gpu media net/wireless bluetooth staging iio infiniband/hw/hfi1 input/touchscreen hid; do
  printf 'path-exclude /lib/modules/*/kernel/drivers/%s/*\npath-exclude /usr/lib/modules/*/kernel/drivers/%s/*\n' "$d" "$d" >>"$T/etc/dpkg/dpkg.cfg.d/01-kiln-slim"
done
printf 'path-exclude /lib/modules/*/kernel/sound/*\npath-exclude /usr/lib/modules/*/kernel/sound/*\n' >>"$T/etc/dpkg/dpkg.cfg.d/01-kiln-slim"
printf '#!/bin/sh\nexit 101\n' >"$T/usr/sbin/policy-rc.d"
chmod 0755 "$T/usr/sbin/policy-rc.d"
mkdir -p "$T/etc/initramfs-tools/conf.d"
printf 'COMPRESS=zstd\n' >"$T/etc/initramfs-tools/conf.d/kiln"
printf 'deb %s %s main\n' "$MIRROR" "$SUITE" >"$T/etc/apt/sources.list"
echo debian >"$T/etc/hostname"

mount -t proc proc "$T/proc"
mount -t sysfs sysfs "$T/sys"
mount --bind /dev "$T/dev"
mount --bind /dev/pts "$T/dev/pts"
# apt drops to _apt for downloads; the shared .deb cache is bind-free: copy in, copy back out.
cp "$DEBS"/*.deb "$T/var/cache/apt/archives/" 2>/dev/null || true
in_root() { DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 chroot "$T" "$@"; }
in_root apt-get update -qq >"$WORK/apt.log" 2>&1 || { tail -n 20 "$WORK/apt.log" >&2; die "apt-get update in the image failed"; }
install=()
for p in "${PACKAGES[@]}"; do install+=("$p"); done
say "installing ${#install[@]} packages…"
in_root apt-get install -y -q --no-install-recommends -o Dpkg::Use-Pty=0 "${install[@]}" >>"$WORK/apt.log" 2>&1 ||
  { tail -n 40 "$WORK/apt.log" >&2; die "apt-get install in the image failed"; }
cp -n "$T"/var/cache/apt/archives/*.deb "$DEBS/" 2>/dev/null || true
say "packages installed after $(elapsed) s"

KREL=$(basename "$(ls -d "$T"/lib/modules/*/ | head -n1)")
[[ -s "$T/boot/vmlinuz-$KREL" && -s "$T/boot/initrd.img-$KREL" ]] || die "no kernel or initramfs in the image (/boot/vmlinuz-$KREL)"
ROOT_UUID=$(printf '%s' "$INPUT_HASH" | sed -E 's/^(.{8})(.{4}).(.{3}).(.{3})(.{12}).*/\1-\2-4\3-8\4-\5/')

# --- configuration --------------------------------------------------------------------------
printf 'UUID=%s / ext4 errors=remount-ro 0 1\n' "$ROOT_UUID" >"$T/etc/fstab"
printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n' >"$T/etc/hosts"
# DHCP on every Ethernet NIC, whatever its name: the lab's network answers (and cloud-init,
# finding no network configuration in the seed, renders the same for the first NIC).
cat >"$T/etc/systemd/network/90-kiln-dhcp.network" <<'EOF'
[Match]
Type=ether
Name=en* eth*

[Network]
DHCP=yes

[DHCPv4]
UseDomains=yes
EOF
in_root systemctl enable systemd-networkd.service >/dev/null 2>&1
# One NIC with a lease is "online": the others (unplugged lab ports) must not hold boot for two minutes.
mkdir -p "$T/etc/systemd/system/systemd-networkd-wait-online.service.d"
printf '[Service]\nExecStart=\nExecStart=/lib/systemd/systemd-networkd-wait-online --any --timeout=60\n' \
  >"$T/etc/systemd/system/systemd-networkd-wait-online.service.d/kiln.conf"
# Host keys are per machine: generated before sshd starts if cloud-init has not made them.
rm -f "$T"/etc/ssh/ssh_host_*
mkdir -p "$T/etc/systemd/system/ssh.service.d"
printf '[Service]\nExecStartPre=/usr/bin/ssh-keygen -A\n' >"$T/etc/systemd/system/ssh.service.d/kiln-host-keys.conf"
# cloud-init's datasource comes from the deploy (99-kiln.cfg); without it, search only what a
# lab can offer (a NoCloud seed on a disk or the kernel command line) instead of waiting on
# cloud metadata services that are not there.
cat >"$T/etc/cloud/cloud.cfg.d/90-kiln-image.cfg" <<'EOF'
# Kiln's Debian 12 cloud image. Kiln's deploy agent adds 99-kiln.cfg naming the run's seed.
datasource_list: [NoCloud, None]
# C.UTF-8 is built in: the first boot does not spend a minute in locale-gen under emulation.
locale: C.UTF-8
EOF
: >"$T/etc/machine-id"
rm -f "$T/var/lib/dbus/machine-id" "$T/usr/sbin/policy-rc.d"
in_root apt-get clean
rm -rf "$T"/var/lib/apt/lists/* "$T"/var/cache/apt/*.bin "$T"/var/log/*.log "$T"/var/log/apt/* "$T"/tmp/* "$T"/var/tmp/*
echo debian >"$T/etc/hostname"
: >"$T/etc/resolv.conf"
for m in dev/pts dev proc sys; do umount "$T/$m"; done

# --- disk image -----------------------------------------------------------------------------
B="$WORK/build"
mkdir -p "$B"
cp "$T/boot/vmlinuz-$KREL" "$B/vmlinuz"
cp "$T/boot/initrd.img-$KREL" "$B/initrd.img"
CMDLINE="root=UUID=$ROOT_UUID ro console=tty0 console=ttyS0,115200"
printf 'DEFAULT debian\nPROMPT 0\nTIMEOUT 0\nSERIAL 0 115200\nLABEL debian\n  KERNEL /vmlinuz\n  INITRD /initrd.img\n  APPEND %s\n' "$CMDLINE" >"$B/syslinux.cfg"

USED_MIB=$(( $(du -sm "$T" | cut -f1) ))
# Room to breathe on first boot before growpart; cloud-init grows it to the disk.
ROOT_MIB=$(( (USED_MIB * 5 / 4 + 256 + 63) / 64 * 64 ))
find "$T" -xdev -exec touch -h -d "@$EPOCH" {} + 2>/dev/null || true
mke2fs -q -t ext4 -L kiln-root -U "$ROOT_UUID" -E "hash_seed=$ROOT_UUID,lazy_itable_init=1,lazy_journal_init=1" \
  -d "$T" "$B/root.ext4" "${ROOT_MIB}M" >&2

BOOT_SECTORS=$((BOOT_MIB * 2048))
# Hidden sectors = the partition's start: syslinux's boot sector finds ldlinux.sys from it.
mkfs.fat --invariant -i "${INPUT_HASH:0:8}" -n KILNBOOT -F 16 -g 255/63 -h 2048 -D 0x80 -C "$B/boot.fat" $((BOOT_MIB * 1024)) >/dev/null
syslinux --install "$B/boot.fat"
MTOOLS_SKIP_CHECK=1 mcopy -i "$B/boot.fat" -m "$B/vmlinuz" "$B/initrd.img" "$B/syslinux.cfg" ::/

DISK="$B/disk.raw"
TOTAL_SECTORS=$(( 2048 + BOOT_SECTORS + ROOT_MIB * 2048 ))
truncate -s $((TOTAL_SECTORS * 512)) "$DISK"
sfdisk -q --no-reread --no-tell-kernel "$DISK" <<EOF
label: dos
label-id: 0x${INPUT_HASH:8:8}
start=2048, size=$BOOT_SECTORS, type=6, bootable
start=$((2048 + BOOT_SECTORS)), type=83
EOF
dd if=/usr/lib/syslinux/mbr/mbr.bin of="$DISK" bs=440 count=1 conv=notrunc status=none
dd if="$B/boot.fat" of="$DISK" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$B/root.ext4" of="$DISK" bs=1M seek=$((1 + BOOT_MIB)) conv=notrunc,sparse status=none
say "disk image of $((TOTAL_SECTORS / 2048)) MiB ($USED_MIB MiB of files) after $(elapsed) s; compressing…"
zstd -q -T0 -9 "$DISK" -o "$B/$NAME"

DISK_BYTES=$(stat -c %s "$DISK")
ZST_BYTES=$(stat -c %s "$B/$NAME")
SHA=$(sha256sum "$B/$NAME" | cut -d' ' -f1)
RAW_SHA=$(sha256sum "$DISK" | cut -d' ' -f1)
BUILD_SECONDS=$(elapsed)
packages_json=$(in_root dpkg-query -W -f '${Package} ${Version}\n' 2>/dev/null | grep -E '^(cloud-init|linux-image-[0-9].*|openssh-server|systemd|syslinux) ' |
  awk '{ printf "%s    { \"name\": \"%s\", \"version\": \"%s\" }", (n++ ? ",\n" : ""), $1, $2 }' || true)
cat >"$B/manifest.json" <<EOF
{
  "inputHash": "$INPUT_HASH",
  "suite": "$SUITE",
  "mirror": "$MIRROR",
  "kernelRelease": "$KREL",
  "rootUuid": "$ROOT_UUID",
  "file": "$NAME",
  "bytes": $ZST_BYTES,
  "sha256": "$SHA",
  "rawBytes": $DISK_BYTES,
  "rawSha256": "$RAW_SHA",
  "filesMiB": $USED_MIB,
  "packages": [
$packages_json
  ],
  "buildSeconds": $BUILD_SECONDS,
  "builtAt": "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
}
EOF
mkdir -p "$DIR.tmp.$$"
mv "$B/$NAME" "$B/manifest.json" "$DIR.tmp.$$/"
rm -rf "$DIR"
mv "$DIR.tmp.$$" "$DIR"
# The two newest builds stay (checkouts of different versions share the cache).
ls -1dt "$CACHE"/cloud-image/*/ | grep -v '/debs/$' | tail -n +3 | xargs -r rm -rf
say "built $INPUT_HASH in ${BUILD_SECONDS} s: $NAME $ZST_BYTES bytes (raw $DISK_BYTES bytes) → $IMAGE"
finish
