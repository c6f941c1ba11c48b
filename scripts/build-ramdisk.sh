#!/usr/bin/env bash
# Builds Kiln's deploy ramdisk ("management OS"): OUTDIR/vmlinuz, OUTDIR/initrd.img and
# OUTDIR/manifest.json (docs/ramdisk.md). `npm run ramdisk`; Kiln's launcher runs it too.
#
#   scripts/build-ramdisk.sh [OUTDIR]      default: $KILN_RAMDISK_DIR, else ${KILN_DATA_DIR:-.kiln}/ramdisk
#                                          (the same defaults as lib/env.ts)
#   scripts/build-ramdisk.sh --hash        prints the input hash and exits
#
# Inputs: Debian's kernel (the package linux-image-amd64 depends on) and busybox-static, fetched
# with `apt-get download` and unpacked with `dpkg-deb -x` (nothing is installed); this host's
# curl, zstd, xz, gzip, wipefs, blkdiscard and sfdisk with the shared libraries ldd names (as
# initramfs-tools' copy_exec does) and its CA bundle; boot/ramdisk/init and udhcpc.script.
# The input hash covers this script, those two files, the two packages' versions, the bytes
# of every host file copied and the listing of /lib/firmware. A build is kept under ${XDG_CACHE_HOME:-~/.cache}/kiln/
# by that hash, so a second data directory (or a second run) only copies files; OUTDIR is
# left alone when its manifest already names the hash.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SRC="$ROOT/boot/ramdisk"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/kiln"
# Everything in the image gets this mtime, so the same inputs give the same bytes.
EPOCH=1700000000

say() { printf 'build-ramdisk: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
trap 'say "failed at line $LINENO: $BASH_COMMAND"' ERR

HASH_ONLY=0
if [[ "${1:-}" == "--hash" ]]; then HASH_ONLY=1; shift; fi
OUT="${1:-${KILN_RAMDISK_DIR:-${KILN_DATA_DIR:-.kiln}/ramdisk}}"

# What cannot be checked (no package lists and no network, a host tool removed, a download that
# fails) must not take away a ramdisk that works: an earlier build in OUTDIR stays, with a word.
keep_or_die() {
  if [[ -s "$OUT/vmlinuz" && -s "$OUT/initrd.img" && -s "$OUT/manifest.json" ]]; then
    say "$*"
    say "keeping the ramdisk already in $OUT ($(sed -n 's/^ *"builtAt": *"\([^"]*\)".*/built \1/p' "$OUT/manifest.json"))"
    exit 0
  fi
  die "$*"
}

# --- host tools ---------------------------------------------------------------------------
# command → Debian package, for the message when one is missing (scripts/ensure-deps.sh
# installs the same list).
declare -A HOST_NEEDS=(
  [apt-get]=apt [apt-cache]=apt [dpkg-deb]=dpkg [dpkg-query]=dpkg [ldd]=libc-bin
  [cpio]=cpio [depmod]=kmod [modinfo]=kmod [flock]=util-linux
  [curl]=curl [zstd]=zstd [xz]=xz-utils [gzip]=gzip [wipefs]=util-linux [blkdiscard]=util-linux [sfdisk]=fdisk
  [tee]=coreutils
)
# Copied into the ramdisk with their libraries. sfdisk is optional (only partition edits use it).
# GNU tee replaces busybox's: the agent tees the image into its hash while writing it, and
# busybox tee's small writes made that pipeline 3–4 times slower (128 MiB in 44 s vs 13 s
# under QEMU TCG, against 6 s for the download and write alone). busybox sh prefers its own
# applets for bare names, so the agent calls it as /usr/bin/tee.
TOOLS=(curl zstd xz gzip wipefs blkdiscard tee)
OPTIONAL_TOOLS=(sfdisk)
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt

find_cmd() { PATH="$PATH:/usr/sbin:/sbin" command -v "$1" 2>/dev/null; }

missing=()
for cmd in "${!HOST_NEEDS[@]}"; do
  [[ "$cmd" == sfdisk ]] && continue
  find_cmd "$cmd" >/dev/null || missing+=("${HOST_NEEDS[$cmd]}")
done
[[ -f "$CA_BUNDLE" ]] || missing+=(ca-certificates)
if ((${#missing[@]})); then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  keep_or_die "missing host packages: ${missing[*]} — run: bash scripts/ensure-deps.sh (as root), then build again"
fi
for f in "$SRC/init" "$SRC/udhcpc.script"; do [[ -f "$f" ]] || die "missing $f"; done

# --- package versions -----------------------------------------------------------------------
# linux-image-amd64 depends on exactly one kernel package, at its own version. One apt-cache
# call (over a second where apt keeps no binary cache, as in Debian's container images), and its
# answer is remembered until apt's package lists or sources change.
apt_state() { { stat -c '%n %s %Y' /var/lib/apt/lists/*_Packages* /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null || true; } | sha256sum | cut -c1-16; }
resolve_packages() {
  apt-cache show --no-all-versions linux-image-amd64 busybox-static 2>/dev/null | awk '
    /^Package: / { pkg = $2 }
    pkg == "linux-image-amd64" && /^Depends: / { for (i = 2; i <= NF; i++) if ($i ~ /^linux-image-[0-9]/) { k = $i; v = $(i + 2); sub(/\)[,]?$/, "", v); break } }
    pkg == "busybox-static" && /^Version: / { b = $2 }
    END { if (k != "" && v != "" && b != "") print k, v, b }'
}
mkdir -p "$CACHE"
RESOLVED="$CACHE/apt-resolved"
state=$(apt_state)
[[ -f "$RESOLVED" ]] && read -r rstate KPKG KVER BBVER <"$RESOLVED"
if [[ "${rstate:-}" != "$state" || -z "${BBVER:-}" ]]; then
  read -r KPKG KVER BBVER < <(resolve_packages) || true
  if [[ -z "${BBVER:-}" && $(id -u) -eq 0 ]]; then
    # A machine whose package lists were never fetched (or were cleaned) knows no versions.
    say "apt knows no linux-image-amd64 or busybox-static; running apt-get update…"
    apt-get update -qq >&2 || true
    state=$(apt_state)
    read -r KPKG KVER BBVER < <(resolve_packages) || true
  fi
  [[ -n "${BBVER:-}" ]] || keep_or_die "apt knows no linux-image-amd64 or busybox-static (run apt-get update as root, with Debian's main archive in the sources)"
  echo "$state $KPKG $KVER $BBVER" >"$RESOLVED"
fi

# --- host files: tools, their libraries, the CA bundle, NIC firmware ------------------------
tool_paths=()
for t in "${TOOLS[@]}"; do tool_paths+=("$(find_cmd "$t")"); done
for t in "${OPTIONAL_TOOLS[@]}"; do p=$(find_cmd "$t" || true); [[ -n "$p" ]] && tool_paths+=("$p"); done
# Every library ldd resolves, plus the dynamic loader (ldd prints it without "=>").
mapfile -t lib_paths < <(ldd "${tool_paths[@]}" 2>/dev/null | awk '/=> \// { print $3 } /^\t\/[^ ]+ \(0x/ { print $1 }' | sort -u)
host_files=("${tool_paths[@]}" "${lib_paths[@]}" "$CA_BUNDLE")

INPUT_HASH=$(
  {
    sha256sum "${BASH_SOURCE[0]}" "$SRC/init" "$SRC/udhcpc.script" | cut -d' ' -f1
    echo "$KPKG=$KVER busybox-static=$BBVER"
    sha256sum "${host_files[@]}"
    # Firmware from non-free-firmware, when the host has it (copied for the modules that ask).
    [[ -d /lib/firmware ]] && find /lib/firmware/ \( -type f -o -type l \) -printf '%P %s %T@\n' | sort
  } | sha256sum | cut -c1-32
)
if ((HASH_ONLY)); then echo "$INPUT_HASH"; exit 0; fi

mkdir -p "$OUT" 2>/dev/null && [[ -w "$OUT" ]] || die "cannot write to the output directory $OUT (OUTDIR, KILN_RAMDISK_DIR)"
OUT=$(cd "$OUT" && pwd)
manifest_hash() { sed -n 's/^ *"inputHash": *"\([0-9a-f]*\)".*/\1/p' "$1/manifest.json" 2>/dev/null || true; }
is_complete() { [[ -s "$1/vmlinuz" && -s "$1/initrd.img" && "$(manifest_hash "$1")" == "$INPUT_HASH" ]]; }

if is_complete "$OUT"; then
  say "up to date in $OUT ($INPUT_HASH)"
  exit 0
fi

# Copies a finished build into OUTDIR: each file under a temporary name, then renamed, and the
# manifest last, so a reader never sees a manifest naming files that are not there yet.
install_into_out() {
  local from=$1 f
  for f in vmlinuz initrd.img manifest.json; do
    cp "$from/$f" "$OUT/.$f.tmp.$$"
  done
  mv -f "$OUT/.vmlinuz.tmp.$$" "$OUT/vmlinuz"
  mv -f "$OUT/.initrd.img.tmp.$$" "$OUT/initrd.img"
  mv -f "$OUT/.manifest.json.tmp.$$" "$OUT/manifest.json"
}

BUILD_CACHE="$CACHE/ramdisk/$INPUT_HASH"
mkdir -p "$CACHE/ramdisk" "$CACHE/debs"
# One build per cache at a time (the launcher and `npm run ramdisk`, or two test files).
exec 9>"$CACHE/ramdisk/.lock"
flock 9

if is_complete "$BUILD_CACHE"; then
  install_into_out "$BUILD_CACHE"
  say "copied the cached build $INPUT_HASH into $OUT"
  exit 0
fi

START=$(date +%s.%N)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kiln-ramdisk.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# --- packages -------------------------------------------------------------------------------
deb_file() { # package version → cached .deb path (apt's file name: the epoch's colon as %3a)
  echo "$CACHE/debs/${1}_${2//:/%3a}_amd64.deb"
}
fetch_deb() { # package version → DEB (not in a subshell: keep_or_die must end the script)
  DEB=$(deb_file "$1" "$2")
  if [[ ! -s "$DEB" ]]; then
    say "downloading $1 $2…"
    # As root apt drops to the _apt user for downloads, which cannot write into a private cache.
    (cd "$WORK" && apt-get download -q -o APT::Sandbox::User=root "$1=$2" >&2) || keep_or_die "apt-get download $1=$2 failed"
    mv "$WORK/$(basename "$DEB")" "$DEB"
  fi
}
fetch_deb "$KPKG" "$KVER"
KDEB=$DEB
fetch_deb busybox-static "$BBVER"
BBDEB=$DEB
# Older versions of the same packages are of no further use.
find "$CACHE/debs" -name '*.deb' ! -path "$KDEB" ! -path "$BBDEB" -delete

say "unpacking $KPKG $KVER…"
dpkg-deb -x "$KDEB" "$WORK/kernel"
dpkg-deb -x "$BBDEB" "$WORK/busybox"
KREL=$(basename "$(ls -d "$WORK"/kernel/lib/modules/*/ | head -n1)")
KMOD="$WORK/kernel/lib/modules/$KREL"
# The package ships no module indexes; the full tree's modules.dep gives the dependency closure.
depmod -b "$WORK/kernel" "$KREL"

# --- the root file system -------------------------------------------------------------------
R="$WORK/root"
mkdir -p "$R"/{bin,sbin,dev,proc,sys,run,tmp,root,etc,usr/bin,usr/sbin,usr/lib/x86_64-linux-gnu,usr/lib64}
# Debian 12 is merged-/usr: libraries are found through /lib and /lib64 as on the host.
ln -s usr/lib "$R/lib"
ln -s usr/lib64 "$R/lib64"
chmod 1777 "$R/tmp"

install -m 0755 "$WORK/busybox/bin/busybox" "$R/bin/busybox"
# Every applet as a link, except `busybox` itself (a self-link would make /bin/busybox a loop).
for applet in $("$R/bin/busybox" --list-full); do
  [[ "$applet" == */busybox ]] && continue
  [[ -e "$R/$applet" || -L "$R/$applet" ]] || ln -s /bin/busybox "$R/$applet"
done

# copy_exec: the file at the same path, dereferenced; PATH puts /usr/bin and /usr/sbin first,
# so the real tools win over busybox applets of the same name.
copy_file() {
  local src=$1 dst="$R$1"
  mkdir -p "$(dirname "$dst")"
  cp -L "$src" "$dst"
}
for f in "${tool_paths[@]}"; do
  case "$f" in
    /bin/* | /usr/bin/*) install -D -m 0755 "$f" "$R/usr/bin/$(basename "$f")" ;;
    *) install -D -m 0755 "$f" "$R/usr/sbin/$(basename "$f")" ;;
  esac
done
for f in "${lib_paths[@]}"; do copy_file "$f"; done
install -D -m 0644 "$CA_BUNDLE" "$R/etc/ssl/certs/ca-certificates.crt"

install -m 0755 "$SRC/init" "$R/init"
install -D -m 0755 "$SRC/udhcpc.script" "$R/etc/udhcpc.script"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$R/etc/passwd"
printf 'root:x:0:\n' >"$R/etc/group"
printf '127.0.0.1 localhost\n' >"$R/etc/hosts"
printf 'hosts: files dns\n' >"$R/etc/nsswitch.conf"
: >"$R/etc/resolv.conf"

# --- kernel modules -------------------------------------------------------------------------
# Paths under kernel/: directories take every module below them. QEMU's devices, and what lab
# servers use: every Ethernet driver (and USB NICs), SATA/PATA, NVMe (with Intel VMD), the
# common SAS/RAID HBAs, and hypervisors' paravirtual NICs and disks. Dependencies follow.
MODULES=(
  drivers/virtio drivers/net/virtio_net.ko drivers/block/virtio_blk.ko drivers/scsi/virtio_scsi.ko
  drivers/net/ethernet drivers/net/phy drivers/net/usb drivers/net/vmxnet3
  drivers/ata
  drivers/nvme/host drivers/pci/controller/vmd.ko
  drivers/scsi/sd_mod.ko drivers/scsi/megaraid drivers/scsi/mpt3sas drivers/scsi/mpi3mr drivers/scsi/smartpqi
  drivers/scsi/aacraid drivers/scsi/arcmsr drivers/scsi/isci drivers/scsi/mvsas drivers/scsi/pm8001
  drivers/scsi/hpsa.ko drivers/scsi/3w-9xxx.ko drivers/scsi/3w-sas.ko drivers/scsi/hptiop.ko
  drivers/scsi/vmw_pvscsi.ko drivers/scsi/myrb.ko drivers/scsi/myrs.ko drivers/message/fusion
  drivers/usb/host/xhci-pci.ko drivers/usb/host/ehci-pci.ko drivers/usb/host/ohci-pci.ko drivers/usb/host/uhci-hcd.ko
)
declare -A want=()
for m in "${MODULES[@]}"; do
  [[ -e "$KMOD/kernel/$m" ]] || die "module path kernel/$m is not in $KPKG"
  while IFS= read -r f; do want["${f#"$KMOD"/}"]=1; done < <(find "$KMOD/kernel/$m" -name '*.ko')
done
# Dependency closure from modules.dep ("kernel/a.ko: kernel/b.ko kernel/c.ko").
declare -A deps=()
while IFS= read -r line; do deps["${line%%:*}"]="${line#*:}"; done <"$KMOD/modules.dep"
queue=("${!want[@]}")
while ((${#queue[@]})); do
  m=${queue[-1]}
  unset 'queue[-1]'
  for d in ${deps[$m]:-}; do
    [[ -n "${want[$d]:-}" ]] && continue
    want[$d]=1
    queue+=("$d")
  done
done
RMOD="$R/lib/modules/$KREL"
mkdir -p "$RMOD"
(cd "$KMOD" && cp --parents "${!want[@]}" "$RMOD/")
cp "$KMOD"/modules.{builtin,builtin.modinfo,order} "$RMOD/"
# Debian 12 ships its modules uncompressed (CONFIG_MODULE_COMPRESS_NONE): about 50 MB here. The
# initramfs is unpacked into a tmpfs capped at half the RAM, where 80 MB do not fit a 256 MB
# UEFI machine, so each module is xz-compressed as the kernel's own `make modules_install` would
# (crc32, 1 MiB dictionary); busybox modprobe unpacks .ko.xz itself, and depmod indexes them.
find "$RMOD" -name '*.ko' -print0 | xargs -0 -n 16 -P "$(nproc)" xz --check=crc32 --lzma2=dict=1MiB
depmod -b "$R" "$KREL"
MODULE_COUNT=${#want[@]}

# Firmware the chosen modules ask for, where this host has it (Debian's non-free-firmware
# packages: firmware-bnx2, firmware-bnx2x, firmware-realtek, … are not in main).
FIRMWARE_COUNT=0
if [[ -d /lib/firmware ]]; then
  while IFS= read -r fw; do
    [[ -n "$fw" ]] || continue
    # The kernel also loads firmware stored xz-compressed (CONFIG_FW_LOADER_COMPRESS_XZ).
    for src in /lib/firmware/$fw /lib/firmware/$fw.xz; do
      [[ -f "$src" ]] || continue
      install -D -m 0644 "$src" "$R/lib/firmware/${src#/lib/firmware/}"
      FIRMWARE_COUNT=$((FIRMWARE_COUNT + 1))
    done
  done < <(cd "$RMOD" && find . -name '*.ko.xz' -print0 | xargs -0 modinfo -F firmware 2>/dev/null | sort -u)
fi

# --- pack -----------------------------------------------------------------------------------
# zstd when the kernel can unpack it (Debian 12's can: CONFIG_RD_ZSTD=y), else gzip.
if grep -q '^CONFIG_RD_ZSTD=y' "$WORK/kernel/boot/config-$KREL"; then
  COMPRESSION=zstd
  compress() { zstd -q -T0 -9 -c; }
else
  COMPRESSION=gzip
  compress() { gzip -9 -n -c; }
fi
find "$R" -exec touch -h -d "@$EPOCH" {} +
B="$WORK/build"
mkdir -p "$B"
(cd "$R" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 --reproducible) | compress >"$B/initrd.img"
cp "$WORK/kernel/boot/vmlinuz-$KREL" "$B/vmlinuz"

# --- manifest -------------------------------------------------------------------------------
pkg_of() { # a host file → "package version" from dpkg's database (merged-/usr: try both spellings)
  local f=$1 alt pkg
  alt=${f#/usr}
  [[ "$alt" == "$f" ]] && alt="/usr$f"
  pkg=$(dpkg-query -S "$f" 2>/dev/null || dpkg-query -S "$alt" 2>/dev/null || true)
  pkg=${pkg%%:*}
  [[ -n "$pkg" ]] && dpkg-query -W -f='${Package} ${Version}\n' "$pkg" 2>/dev/null | head -n1
}
packages_json=$(
  {
    echo "$KPKG $KVER"
    echo "busybox-static $BBVER"
    for f in "${host_files[@]}"; do pkg_of "$f" || true; done
  } | sort -u | awk 'NF == 2 { printf "%s    { \"name\": \"%s\", \"version\": \"%s\" }", (n++ ? ",\n" : ""), $1, $2 }'
)
size_of() { stat -c %s "$1"; }
sha_of() { sha256sum "$1" | cut -d' ' -f1; }
UNPACKED=$(du -sb "$R" | cut -f1)
BUILD_SECONDS=$(awk -v a="$START" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
cat >"$B/manifest.json" <<EOF
{
  "inputHash": "$INPUT_HASH",
  "kernel": { "package": "$KPKG", "version": "$KVER", "release": "$KREL" },
  "compression": "$COMPRESSION",
  "files": {
    "vmlinuz": { "bytes": $(size_of "$B/vmlinuz"), "sha256": "$(sha_of "$B/vmlinuz")" },
    "initrd.img": { "bytes": $(size_of "$B/initrd.img"), "sha256": "$(sha_of "$B/initrd.img")", "unpackedBytes": $UNPACKED }
  },
  "modules": $MODULE_COUNT,
  "firmwareFiles": $FIRMWARE_COUNT,
  "packages": [
$packages_json
  ],
  "buildSeconds": $BUILD_SECONDS,
  "builtAt": "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
}
EOF

# Into the cache first (complete or not at all), then into OUTDIR. The three newest builds are
# kept (checkouts of different versions may share the cache); older ones go.
rm -rf "$BUILD_CACHE.tmp"
cp -r "$B" "$BUILD_CACHE.tmp"
mv "$BUILD_CACHE.tmp" "$BUILD_CACHE"
ls -1dt "$CACHE"/ramdisk/*/ | tail -n +4 | xargs -r rm -rf
install_into_out "$BUILD_CACHE"
say "built $INPUT_HASH in ${BUILD_SECONDS}s: vmlinuz $(size_of "$B/vmlinuz") bytes, initrd.img $(size_of "$B/initrd.img") bytes ($COMPRESSION, $MODULE_COUNT modules, $UNPACKED bytes unpacked) → $OUT"
