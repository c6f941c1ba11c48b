#!/usr/bin/env bash
# Builds Kiln's deploy ramdisk ("management OS"): OUTDIR/vmlinuz, OUTDIR/initrd.img and
# OUTDIR/manifest.json (docs/ramdisk.md). `npm run ramdisk`; Kiln's launcher runs it too.
# One file, longer than most: it is hashed whole into the ramdisk's input hash, so every step
# that shapes the ramdisk stands here, in the order it runs.
#
#   scripts/build-ramdisk.sh [OUTDIR]      default: $KILN_RAMDISK_DIR, else ${KILN_DATA_DIR:-.kiln}/ramdisk
#                                          (the same defaults as lib/env.ts)
#   scripts/build-ramdisk.sh --hash        prints the input hash and exits
#
# Inputs, all Debian packages fetched with `apt-get download` and unpacked with `dpkg-deb -x`
# (nothing is installed): the kernel (the package linux-image-amd64 depends on), busybox-static,
# and the agent's tools — curl, zstd, xz, gzip, wipefs, blkdiscard, sfdisk, GNU tee and dd, fallocate, ipmitool — from
# their packages with the libraries they load (their packages' library dependencies; the
# packages' own loader lists what each binary loads, as initramfs-tools' copy_exec does with
# ldd) and Mozilla's CA certificates; boot/ramdisk/init and udhcpc.script. The input hash
# covers this script, those two files, every package's version and the listing of /lib/firmware. A build is kept under ${XDG_CACHE_HOME:-~/.cache}/kiln/
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
  [apt-get]=apt [apt-cache]=apt [dpkg-deb]=dpkg
  [cpio]=cpio [depmod]=kmod [modinfo]=kmod [flock]=util-linux [zstd]=zstd [xz]=xz-utils
)
# Copied into the ramdisk with their libraries, from these packages (ca-certificates gives the
# CA bundle). GNU tee replaces busybox's: the agent tees the image into its hash while writing
# it, and busybox tee's small writes made that pipeline 3–4 times slower (128 MiB in 44 s vs
# 13 s under QEMU TCG, against 6 s for the download and write alone). busybox sh prefers its
# own applets for bare names, so the agent calls it as /usr/bin/tee. GNU dd and util-linux
# fallocate write an image with a block map: dd's byte offsets (skip_bytes, count_bytes,
# seek_bytes) cut the stream into ranges, and fallocate --punch-hole zeroes the disk without
# writing it; the agent finds both by path.
# ipmitool: commissioning asks the machine's own BMC for its LAN address (`ipmitool lan print`
# through the in-band IPMI drivers below; docs/commissioning.md).
# nbd-client: a diskless run attaches its copy-on-write root over NBD (docs/diskless.md); busybox
# has no NBD client.
TOOLS=(curl zstd xz gzip wipefs blkdiscard sfdisk tee dd fallocate ipmitool nbd-client)
TOOL_PACKAGES=(curl zstd xz-utils gzip util-linux fdisk coreutils ca-certificates ipmitool nbd-client)

find_cmd() { PATH="$PATH:/usr/sbin:/sbin" command -v "$1" 2>/dev/null; }

missing=()
for cmd in "${!HOST_NEEDS[@]}"; do
  [[ "$cmd" == sfdisk ]] && continue
  find_cmd "$cmd" >/dev/null || missing+=("${HOST_NEEDS[$cmd]}")
done
if ((${#missing[@]})); then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  keep_or_die "missing host packages: ${missing[*]} — run: bash scripts/ensure-deps.sh (as root), then build again"
fi
for f in "$SRC/init" "$SRC/udhcpc.script"; do [[ -f "$f" ]] || die "missing $f"; done

# --- package versions -----------------------------------------------------------------------
# linux-image-amd64 depends on exactly one kernel package, at its own version. One apt-cache
# call (over a second where apt keeps no binary cache, as in Debian's container images), and its
# answer is remembered until apt's package lists or sources change, or the question does (a tool
# package added or removed).
apt_state() { { stat -c '%n %s %Y' /var/lib/apt/lists/*_Packages* /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null || true; echo "${TOOL_PACKAGES[*]}"; } | sha256sum | cut -c1-16; }
resolve_packages() {
  apt-cache show --no-all-versions linux-image-amd64 busybox-static 2>/dev/null | awk '
    /^Package: / { pkg = $2 }
    pkg == "linux-image-amd64" && /^Depends: / { for (i = 2; i <= NF; i++) if ($i ~ /^linux-image-[0-9]/) { k = $i; v = $(i + 2); sub(/\)[,]?$/, "", v); break } }
    pkg == "busybox-static" && /^Version: / { b = $2 }
    END { if (k != "" && v != "" && b != "") print k, v, b }'
}
# The tools' packages and, level by level, the library packages they depend on (the first of
# alternatives; virtual packages and non-library dependencies such as debconf are not needed
# by a binary at run time). Prints "package version" lines. The loader check after unpacking
# proves the set complete: a library found nowhere in it stops the build, naming it.
resolve_userspace() {
  local -A seen=()
  local level=("${TOOL_PACKAGES[@]}") next p line dep first alt
  while ((${#level[@]})); do
    next=()
    for p in "${level[@]}"; do seen[$p]=1; done
    alt=0
    while IFS= read -r line; do
      case "$line" in
        " |Depends: "* | " |PreDepends: "*) dep=${line#*: }; first=$((alt == 0)); alt=1 ;;
        "  Depends: "* | "  PreDepends: "*) dep=${line#*: }; first=$((alt == 0)); alt=0 ;;
        *) alt=0; continue ;;
      esac
      ((first)) || continue
      [[ "$dep" == lib* || "$dep" == zlib1g ]] || continue
      [[ -n "${seen[$dep]:-}" ]] && continue
      seen[$dep]=1
      next+=("$dep")
    done < <(apt-cache depends --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces --no-enhances "${level[@]}" 2>/dev/null)
    level=("${next[@]}")
  done
  apt-cache show --no-all-versions "${!seen[@]}" 2>/dev/null | awk '/^Package: / { p = $2 } /^Version: / { print p, $2 }' | sort -u
}
mkdir -p "$CACHE"
RESOLVED="$CACHE/apt-resolved"
state=$(apt_state)
[[ -f "$RESOLVED" ]] && { read -r rstate KPKG KVER BBVER; mapfile -t USERSPACE; } <"$RESOLVED"
if [[ "${rstate:-}" != "$state" || -z "${BBVER:-}" || ${#USERSPACE[@]} -lt ${#TOOL_PACKAGES[@]} ]]; then
  read -r KPKG KVER BBVER < <(resolve_packages) || true
  if [[ -z "${BBVER:-}" && $(id -u) -eq 0 ]]; then
    # A machine whose package lists were never fetched (or were cleaned) knows no versions.
    say "apt knows no linux-image-amd64 or busybox-static; running apt-get update…"
    apt-get update -qq >&2 || true
    state=$(apt_state)
    read -r KPKG KVER BBVER < <(resolve_packages) || true
  fi
  [[ -n "${BBVER:-}" ]] || keep_or_die "apt knows no linux-image-amd64 or busybox-static (run apt-get update as root, with Debian's main archive in the sources)"
  mapfile -t USERSPACE < <(resolve_userspace)
  for p in "${TOOL_PACKAGES[@]}"; do
    printf '%s\n' "${USERSPACE[@]}" | grep -q "^$p " || keep_or_die "apt knows no package $p (needed for the agent's tools)"
  done
  { echo "$state $KPKG $KVER $BBVER"; printf '%s\n' "${USERSPACE[@]}"; } >"$RESOLVED"
fi

INPUT_HASH=$(
  {
    sha256sum "${BASH_SOURCE[0]}" "$SRC/init" "$SRC/udhcpc.script" | cut -d' ' -f1
    echo "$KPKG=$KVER busybox-static=$BBVER"
    printf '%s\n' "${USERSPACE[@]}"
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
deb_file() { # package version → cached .deb path (apt's file name: the epoch's colon as %3a; amd64 or all)
  local f
  for f in "$CACHE/debs/${1}_${2//:/%3a}"_{amd64,all}.deb; do [[ -s "$f" ]] && { echo "$f"; return 0; }; done
  return 1
}
# Downloads every "package version" argument not cached yet, in one apt-get call (not in a
# subshell: keep_or_die must end the script).
fetch_debs() {
  local want=() p v
  for pv in "$@"; do
    read -r p v <<<"$pv"
    deb_file "$p" "$v" >/dev/null || want+=("$p=$v")
  done
  ((${#want[@]})) || return 0
  say "downloading ${#want[@]} packages: ${want[*]}"
  mkdir -p "$WORK/dl"
  # As root apt drops to the _apt user for downloads, which cannot write into a private cache.
  (cd "$WORK/dl" && apt-get download -q -o APT::Sandbox::User=root "${want[@]}" >&2) || keep_or_die "apt-get download failed (${want[*]})"
  mv "$WORK"/dl/*.deb "$CACHE/debs/"
}
# The package cache is shared with builds of other checkouts (a lab beside the test suite), whose
# package lists may differ: fd 8 (fd 9 holds the build lock above) keeps one build at a time
# between download and unpack, and the cleanup only drops other versions of this build's own
# packages, never a package this build does not use.
exec 8>"$CACHE/debs.lock"
flock 8
fetch_debs "$KPKG $KVER" "busybox-static $BBVER" "${USERSPACE[@]}"
KDEB=$(deb_file "$KPKG" "$KVER")
BBDEB=$(deb_file busybox-static "$BBVER")
keep=("$KDEB" "$BBDEB")
declare -A mine=(["$KPKG"]=1 [busybox-static]=1)
for pv in "${USERSPACE[@]}"; do keep+=("$(deb_file ${pv})"); mine[${pv%% *}]=1; done
for f in "$CACHE"/debs/*.deb; do
  base=$(basename "$f")
  [[ -n "${mine[${base%%_*}]:-}" ]] || continue
  printf '%s\n' "${keep[@]}" | grep -qxF "$f" || rm -f "$f"
done

say "unpacking $KPKG $KVER…"
dpkg-deb -x "$KDEB" "$WORK/kernel"
dpkg-deb -x "$BBDEB" "$WORK/busybox"
U="$WORK/userspace"
for pv in "${USERSPACE[@]}"; do dpkg-deb -x "$(deb_file ${pv})" "$U"; done
flock -u 8
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

# The tools, from the unpacked packages, into /usr/bin and /usr/sbin: PATH puts those first,
# so the real tools win over busybox applets of the same name.
tool_paths=()
for t in "${TOOLS[@]}"; do
  f=""
  for d in usr/bin bin usr/sbin sbin; do [[ -e "$U/$d/$t" ]] && { f="$U/$d/$t"; break; }; done
  [[ -n "$f" ]] || die "no $t in the packages ${TOOL_PACKAGES[*]}"
  tool_paths+=("$f")
  case "$f" in
    "$U"/bin/* | "$U"/usr/bin/*) install -D -m 0755 "$f" "$R/usr/bin/$t" ;;
    *) install -D -m 0755 "$f" "$R/usr/sbin/$t" ;;
  esac
done
# copy_exec with the packages' own loader: what each tool loads, looked up only inside the
# unpacked packages, copied to the same path (dereferenced), and the loader itself.
LOADER="$U/lib64/ld-linux-x86-64.so.2"
[[ -e "$LOADER" ]] || die "no dynamic loader in libc6 (looked for ${LOADER#"$U"})"
LIBPATH="$U/lib/x86_64-linux-gnu:$U/usr/lib/x86_64-linux-gnu"
lib_paths=(/lib64/ld-linux-x86-64.so.2)
for f in "${tool_paths[@]}"; do
  while read -r name _ path _; do
    [[ "$path" == "$U"/* ]] || die "$(basename "$f") needs $name, which none of the downloaded packages has (${path:-not found}); add its package to TOOL_PACKAGES"
    lib_paths+=("${path#"$U"}")
  done < <("$LOADER" --library-path "$LIBPATH" --list "$f" | awk '$2 == "=>" { print $1, $2, $3 }')
done
mapfile -t lib_paths < <(printf '%s\n' "${lib_paths[@]}" | sort -u)
for f in "${lib_paths[@]}"; do
  mkdir -p "$(dirname "$R$f")"
  cp -L "$U$f" "$R$f"
done
# What update-ca-certificates would build from ca-certificates with its default configuration:
# every Mozilla certificate, in name order.
mkdir -p "$R/etc/ssl/certs"
find "$U/usr/share/ca-certificates/mozilla" -name '*.crt' | LC_ALL=C sort | xargs cat >"$R/etc/ssl/certs/ca-certificates.crt"
[[ -s "$R/etc/ssl/certs/ca-certificates.crt" ]] || die "no certificates in ca-certificates"

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
  # In-band IPMI (KCS/SMIC/BT from ACPI/SMBIOS): commissioning reads the BMC's LAN settings.
  drivers/char/ipmi/ipmi_msghandler.ko drivers/char/ipmi/ipmi_devintf.ko drivers/char/ipmi/ipmi_si.ko
  # ext4 (with the crc32c its metadata checksums load by name): the agent mounts a written
  # cloud image's root to hand cloud-init its seed (docs/cloud-init.md).
  fs/ext4 crypto/crc32c_generic.ko arch/x86/crypto/crc32c-intel.ko
  # Diskless runs: the root is a network block device (docs/diskless.md).
  drivers/block/nbd.ko
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
packages_json=$(
  {
    echo "$KPKG $KVER"
    echo "busybox-static $BBVER"
    printf '%s\n' "${USERSPACE[@]}"
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
