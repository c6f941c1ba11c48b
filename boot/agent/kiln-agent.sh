#!/bin/sh
# Kiln deploy agent, first version. The deploy ramdisk (next issue) runs it with the kernel
# arguments kiln.url, kiln.mac and kiln.token exported as KILN_URL, KILN_MAC, KILN_TOKEN; it
# fetches its instructions from Kiln, reports the machine's inventory, does its action
# (deploy an image, wipe the disks, capture a disk, or only report the hardware: commission) while reporting progress, and reports done or failed
# with a reason a person can act on. POSIX sh with busybox tools: wget (or curl; capture
# needs curl: it uploads through tus), dd, sha256sum, gzip/xz/zstd when the image is compressed.
#
# KILN_DEV (default /dev) is where disks are looked up, so the script can be exercised
# against plain files.
set -u

: "${KILN_URL:?kiln.url missing from the kernel command line}"
: "${KILN_MAC:?kiln.mac missing}"
: "${KILN_TOKEN:?kiln.token missing}"
DEV="${KILN_DEV:-/dev}"
TMP="${TMPDIR:-/tmp}/kiln-agent.$$"
mkdir -p "$TMP"
BASE="$KILN_URL/boot/$(printf '%s' "$KILN_MAC" | tr ':' '-')/$KILN_TOKEN"

fetch() { # url file
  if command -v curl >/dev/null 2>&1; then curl -fsS -o "$2" "$1"; else wget -q -O "$2" "$1"; fi
}

post() { # url content-type file
  if command -v curl >/dev/null 2>&1; then
    curl -fsS -o /dev/null -H "Content-Type: $2" --data-binary "@$3" "$1"
  else
    wget -q -O /dev/null --header "Content-Type: $2" --post-file="$3" "$1"
  fi
}

json_escape() { printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' | tr -d '\n\r'; }

# Lines that could not be sent (Kiln restarting, network down) wait and go with the next one.
log() {
  printf '%s\n' "$*" >>"$TMP/log"
  if post "$BASE/log" "text/plain" "$TMP/log"; then : >"$TMP/log"; fi
}

fail() {
  printf '{"reason":"%s"}' "$(json_escape "$1")" >"$TMP/failed"
  post "$BASE/failed" "application/json" "$TMP/failed" || true
  exit 1
}

progress() { # bytes total phase
  printf '{"bytes":%s,"totalBytes":%s,"phase":"%s"}' "$1" "${2:-0}" "$3" >"$TMP/progress"
  if command -v curl >/dev/null 2>&1; then
    code=$(curl -sS -o /dev/null -w '%{http_code}' -H "Content-Type: application/json" --data-binary "@$TMP/progress" "$BASE/progress" 2>/dev/null)
    # 404/409: the run has ended in Kiln (cancelled, failed, past its deadline); writing stops.
    case "$code" in 404 | 409) : >"$TMP/ended" ;; esac
  else
    post "$BASE/progress" "application/json" "$TMP/progress" || true
  fi
}

disk_size() { # name → bytes
  sectors=$(cat "/sys/block/$1/size" 2>/dev/null || echo 0)
  echo $((sectors * 512))
}

# One sysfs value, trimmed, JSON-escaped; empty when the file is missing or unreadable.
sysval() { json_escape "$(sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' "$1" 2>/dev/null | head -n 1)"; }

# "key":"value" for each non-empty value, comma-separated (an object's members).
members() { # key file key file …
  out=""
  while [ $# -ge 2 ]; do
    v=$(sysval "$2")
    [ -n "$v" ] && out="$out${out:+,}\"$1\":\"$v\""
    shift 2
  done
  printf '%s' "$out"
}

# The BMC's LAN address as `ipmitool lan print` gives it (the ramdisk loads the IPMI drivers):
# prints "null" when ipmitool ran and found none, nothing when there is no ipmitool.
bmc_json() {
  command -v ipmitool >/dev/null 2>&1 || return 0
  # KILN_IPMI_DEV: the device to look for instead (tests).
  if [ -n "${KILN_IPMI_DEV:-}" ]; then [ -e "$KILN_IPMI_DEV" ] || { printf null; return 0; }
  else [ -e /dev/ipmi0 ] || [ -e /dev/ipmi/0 ] || [ -e /dev/ipmidev/0 ] || { printf null; return 0; }; fi
  timeout 20 ipmitool lan print >"$TMP/lan" 2>/dev/null || true
  # sed, not awk -F: — the MAC's own colons would split it.
  ip=$(sed -n 's/^IP Address *: *//p' "$TMP/lan" | head -n 1 | tr -cd '0-9.')
  bmac=$(sed -n 's/^MAC Address *: *//p' "$TMP/lan" | head -n 1 | tr -cd '0-9a-fA-F:')
  if [ -n "$ip" ] && [ "$ip" != 0.0.0.0 ]; then printf '{"address":"%s"%s}' "$ip" "${bmac:+,\"mac\":\"$bmac\"}"; else printf null; fi
}

# What the machine is: CPU, memory, disks, NICs and, for commissioning (docs/commissioning.md),
# DMI, firmware and BMC. Everything from /proc and /sys (no dmidecode or ethtool needed).
inventory() {
  cores=$(grep -c '^processor' /proc/cpuinfo 2>/dev/null || echo 1)
  mem_kb=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo 2>/dev/null || echo 0)
  cpu_model=$(json_escape "$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)")
  cpu_vendor=$(json_escape "$(awk -F': *' '/^vendor_id/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)")
  # Physical cores and sockets: distinct (physical id, core id) pairs and physical ids, where the CPU says.
  phys=$(awk -F': *' '/^physical id/ { p = $2 } /^core id/ { print p "/" $2 }' /proc/cpuinfo 2>/dev/null | sort -u | wc -l)
  sockets=$(awk -F': *' '/^physical id/ { print $2 }' /proc/cpuinfo 2>/dev/null | sort -u | wc -l)
  cpu="\"threads\":$cores"
  [ -n "$cpu_model" ] && cpu="$cpu,\"model\":\"$cpu_model\""
  [ -n "$cpu_vendor" ] && cpu="$cpu,\"vendor\":\"$cpu_vendor\""
  [ "$phys" -gt 0 ] && cpu="$cpu,\"cores\":$phys"
  [ "$sockets" -gt 0 ] && cpu="$cpu,\"sockets\":$sockets"
  disks=""
  for d in /sys/block/*; do
    [ -e "$d" ] || continue
    n=${d##*/}
    case "$n" in loop* | ram* | sr* | fd* | zram* | dm-*) continue ;; esac
    serial=$(cat "$d/device/serial" 2>/dev/null || cat "$d/serial" 2>/dev/null || true)
    model=$(cat "$d/device/model" 2>/dev/null || true)
    rot=$(cat "$d/queue/rotational" 2>/dev/null || echo 0)
    disks="$disks${disks:+,}{\"name\":\"$n\",\"sizeBytes\":$(disk_size "$n"),\"serial\":\"$(json_escape "$serial" | sed 's/ *$//')\",\"model\":\"$(json_escape "$model" | sed 's/ *$//')\",\"rotational\":$([ "$rot" = 1 ] && echo true || echo false)}"
  done
  nics=""
  for n in /sys/class/net/*; do
    [ -e "$n/address" ] || continue
    name=${n##*/}
    [ "$name" = lo ] && continue
    mac=$(cat "$n/address")
    link=$([ "$(cat "$n/carrier" 2>/dev/null || echo 0)" = 1 ] && echo true || echo false)
    extra=""
    driver=$(readlink "$n/device/driver" 2>/dev/null)
    [ -n "$driver" ] && extra="$extra,\"driver\":\"$(json_escape "${driver##*/}")\""
    # -1 (or an error) while the link is down: left out.
    speed=$(cat "$n/speed" 2>/dev/null | tr -cd '0-9-')
    case "$speed" in "" | -*) ;; *) extra="$extra,\"speedMbps\":$speed" ;; esac
    # Its addresses as `ip` shows them (10.0.2.15/24, fe80::…/64): Kiln keeps the routable ones
    # and shows them, with an ssh line, on the host's page. Only digits, hex, ':', '.', '/'.
    addrs=""
    for a in $(ip -o addr show dev "$name" 2>/dev/null | awk '$3 == "inet" || $3 == "inet6" { print $4 }' | tr -cd '0-9a-fA-F:./\n'); do
      addrs="$addrs${addrs:+,}\"$a\""
    done
    nics="$nics${nics:+,}{\"mac\":\"$mac\",\"name\":\"$name\",\"link\":$link$extra,\"addresses\":[$addrs]}"
  done
  dmi_dir=${KILN_DMI_DIR:-/sys/class/dmi/id}
  dmi=$(members vendor "$dmi_dir/sys_vendor" product "$dmi_dir/product_name" serial "$dmi_dir/product_serial" boardVendor "$dmi_dir/board_vendor" boardName "$dmi_dir/board_name" biosVendor "$dmi_dir/bios_vendor" biosVersion "$dmi_dir/bios_version")
  firmware=bios
  [ -d "${KILN_EFI_DIR:-/sys/firmware/efi}" ] && firmware=uefi
  bmc=$(bmc_json)
  printf '{"cpuCores":%s,"memoryMb":%s,"cpu":{%s},"disks":[%s],"nics":[%s],"dmi":{%s},"firmware":"%s"%s}' \
    "$cores" $((mem_kb / 1024)) "$cpu" "$disks" "$nics" "$dmi" "$firmware" "${bmc:+,\"bmc\":$bmc}" >"$TMP/inventory"
  post "$BASE/inventory" "application/json" "$TMP/inventory" && return 0
  log "could not report the inventory"
  return 1
}

first_disk() {
  for d in /sys/block/*; do
    n=${d##*/}
    case "$n" in loop* | ram* | sr* | fd* | zram* | dm-*) continue ;; esac
    [ "$(disk_size "$n")" -gt 0 ] && { echo "$n"; return; }
  done
}

target_disk() {
  d="${KILN_DISK:-}"
  [ -n "$d" ] || d=$(first_disk)
  [ -n "$d" ] || fail "no disk found on this machine"
  case "$d" in /dev/*) d="$DEV/${d#/dev/}" ;; *) d="$DEV/$d" ;; esac
  [ -e "$d" ] || fail "disk ${d#"$DEV"/} not found (looked for $d)"
  echo "$d"
}

# Bytes written to a disk since START: from the kernel's sectors-written counter for a block
# device (field 7 of /sys/block/<name>/stat), or the file's size for a plain file (tests).
sectors_written() {
  awk '{ print $7 }' "/sys/block/${1##*/}/stat" 2>/dev/null || echo 0
}

# Bytes on the disk since START: the kernel's sectors-written counter for a block device (what
# reached the disk, not what was downloaded or still sits in the page cache; a disk slower
# than the network shows here), or, for a plain file standing in for a disk (tests), what the
# writer whose pid is in PIDFILE has written (/proc/<pid>/io wchar).
disk_bytes() { # disk start-sectors pidfile
  if [ -b "$1" ]; then
    echo $((($(sectors_written "$1") - $2) * 512))
    return
  fi
  n=""
  pid=$(cat "$3" 2>/dev/null || true)
  [ -n "$pid" ] && n=$(awk '/^wchar:/ { print $2 }' "/proc/$pid/io" 2>/dev/null)
  echo "${n:-0}"
}

# Reports progress every interval while the writer (a background job) runs: BASE plus the
# bytes on the disk, never less than reported before (Kiln keeps the maximum too), and never
# more than TOTAL when it is known.
watch_progress() { # writer-pid disk start-sectors pidfile base total phase
  shown=0
  while kill -0 "$1" 2>/dev/null; do
    sleep "${KILN_PROGRESS_INTERVAL:-5}"
    kill -0 "$1" 2>/dev/null || break
    n=$(($5 + $(disk_bytes "$2" "$3" "$4")))
    [ "$6" -gt 0 ] && [ "$n" -gt "$6" ] && n=$6
    [ "$n" -gt "$shown" ] && shown=$n
    progress "$shown" "$6" "$7"
    if [ -e "$TMP/ended" ]; then
      # The run ended in Kiln (a cancel): stop the writer; the disk keeps no partition table.
      kill "$(cat "$4" 2>/dev/null)" 2>/dev/null
      break
    fi
  done
}

decompressor() {
  case "${KILN_IMAGE_FORMAT:-raw}" in
    gzip) echo "gzip -dc" ;;
    xz) echo "xz -dc" ;;
    zstd) echo "zstd -dc" ;;
    *) echo "cat" ;;
  esac
}

# Seconds to wait before retry N of a request (1, 2, … then 5); fails past KILN_FETCH_RETRIES.
retry_delay() { # attempt
  [ "$1" -le "${KILN_FETCH_RETRIES:-30}" ] && echo $(($1 < 5 ? $1 : 5))
}

# Writes the image to stdout. With curl, a dropped connection or a restarting server is
# resumed with a Range request from the last byte received (curl's size_download), so the
# stream continues where it stopped and nothing is written twice; HTTP errors other than
# 5xx (a run that ended, a token refused) end it at once. Exit status 0 or the fetch error.
stream_image() {
  if ! command -v curl >/dev/null 2>&1; then
    wget -q -O - "$KILN_IMAGE_URL" || { echo "wget exit $?" >"$TMP/fetch.err"; return 1; }
    return 0
  fi
  got=0
  tries=0
  while :; do
    if [ "$got" -gt 0 ]; then range="-r $got-"; else range=""; fi
    # The body goes to stdout; curl's own count of it goes to stderr (curl 7.88 has no %output).
    # -L: with S3 storage Kiln answers a short-lived presigned URL (307); each retry asks Kiln
    # again, so a resume after that URL expired gets a fresh one (Range is kept across it).
    # shellcheck disable=SC2086
    curl -fsSL --connect-timeout 10 --speed-limit 1 --speed-time 60 $range \
      -w '%{stderr}kiln-fetched %{size_download} %{http_code}\n' "$KILN_IMAGE_URL" 2>"$TMP/fetch.stderr"
    rc=$?
    [ "$rc" = 0 ] && return 0
    # shellcheck disable=SC2046
    set -- $(awk '$1 == "kiln-fetched" { print $2, $3 }' "$TMP/fetch.stderr") 0 000
    n=${1%.*}
    code=$2
    sed -i '/^kiln-fetched /d' "$TMP/fetch.stderr" 2>/dev/null || true
    if [ "$got" -gt 0 ] && [ "$code" = 200 ]; then
      echo "the server ignored the Range request (answered 200) after byte $got" >"$TMP/fetch.err"
      return 1
    fi
    case "$code" in 4??)
      echo "HTTP $code: $(tail -n 1 "$TMP/fetch.stderr")" >"$TMP/fetch.err"
      return 1 ;;
    esac
    got=$((got + n))
    tries=$((tries + 1))
    delay=$(retry_delay "$tries") || {
      echo "gave up after $tries attempts at byte $got: $(tail -n 1 "$TMP/fetch.stderr")" >"$TMP/fetch.err"
      return 1
    }
    log "download interrupted at byte $got ($(tail -n 1 "$TMP/fetch.stderr")); resuming from there in ${delay}s (attempt $tries)"
    sleep "$delay"
  done
}

# busybox sh runs its own applet for a bare `tee` whatever PATH says; the ramdisk's GNU tee
# (by path) writes in large blocks, which keeps hashing-while-writing from throttling the
# stream (128 MiB: 49 s with busybox tee, 13 s with GNU tee under QEMU TCG).
TEE=tee
[ -x /usr/bin/tee ] && TEE=/usr/bin/tee

# Size in bytes of a disk, or of a plain file standing in for one (tests).
size_of() { # disk
  if [ -b "$1" ]; then disk_size "${1##*/}"; else wc -c <"$1" | tr -d ' '; fi
}

# Before the first byte of an image: no partition table or filesystem signature may survive
# on the disk, so a write that stops part-way (a failure, a cancel, a power cut) leaves a disk
# that no firmware boots and no OS mounts. wipefs clears the signatures it knows; the first
# MiB (MBR, GPT header and entries) and the last MiB (GPT's backup header) are zeroed.
clear_disk_labels() { # disk size
  wipefs -a "$1" >/dev/null 2>&1 || true
  head_n=$(($2 < 1048576 ? $2 : 1048576))
  [ "$head_n" -ge 512 ] || return 0
  dd if=/dev/zero of="$1" bs=512 count=$((head_n / 512)) conv=notrunc,fsync 2>"$TMP/dd.err" || return 1
  if [ "$2" -ge 2097152 ]; then
    dd if=/dev/zero of="$1" bs=512 seek=$(($2 / 512 - 2048)) count=2048 conv=notrunc,fsync 2>"$TMP/dd.err" || return 1
  fi
}

# Writes the (decompressed) image from stdin: its first MiB — the partition table, boot sector
# and GPT header — to $TMP/head in RAM, everything after it to the disk from 1 MiB on. The
# head goes to the disk only after the sha256 of the whole image matched (deploy_image), so a
# half-written or mismatched disk never has a partition table.
write_body() { # disk
  dd of="$TMP/head" bs=1M count=1 iflag=fullblock 2>"$TMP/dd.err" || return 1
  # The writer's pid, for disk_bytes on a plain file.
  sh -c 'echo $$ >"$1"; exec dd of="$2" bs=1M seek=1 conv=notrunc,fsync 2>"$3"' sh "$TMP/dd.pid" "$1" "$TMP/dd.err"
}

# The first executable of that name on PATH, by path: busybox sh would run its own applet for
# a bare name, and the block-map write needs GNU dd's byte offsets and util-linux fallocate.
on_path() { # name
  _ifs=$IFS
  IFS=:
  for _d in $PATH; do
    if [ -x "$_d/$1" ]; then
      IFS=$_ifs
      echo "$_d/$1"
      return 0
    fi
  done
  IFS=$_ifs
  return 1
}

# Whether this deploy can write only the mapped ranges (KILN_IMAGE_MAP, from the block map
# Kiln recorded at verification): GNU dd is there, and the map's first range starts at 0 and
# covers the first MiB, which is kept in RAM and written last.
can_write_mapped() {
  [ -n "${KILN_IMAGE_MAP:-}" ] && [ -n "${KILN_IMAGE_MAPPED_SHA256:-}" ] && [ "${KILN_IMAGE_LOGICAL_SIZE:-0}" -gt 0 ] || return 1
  DD=$(on_path dd) && "$DD" --version 2>/dev/null | grep -q coreutils || return 1
  # shellcheck disable=SC2086
  set -- $(printf '%s\n' "$KILN_IMAGE_MAP" | head -n 1)
  [ "${1:-x}" = 0 ] && { [ "${2:-0}" -ge 1048576 ] || [ "${2:-0}" = "$KILN_IMAGE_LOGICAL_SIZE" ]; }
}

# Makes every byte of the disk read as zero without writing them: FALLOC_FL_PUNCH_HOLE on a
# block device is the kernel's zero-out with no fallback (WRITE ZEROES or an unmap that
# guarantees zeros; it fails where the disk could only be zeroed by writing every byte). A
# plain discard (blkdiscard) guarantees nothing about what discarded blocks read back, so it
# is not used: the disk's hash must equal the image's. A plain file standing in for a disk
# (tests) is grown to the image's size first. Non-zero when the disk cannot do it.
zero_disk() { # disk logical-size
  z_size=$(size_of "$1")
  if [ ! -b "$1" ] && [ "$z_size" -lt "$2" ]; then
    truncate -s "$2" "$1" 2>"$TMP/zero.err" || return 1
    z_size=$2
  fi
  [ "$z_size" -gt 0 ] || return 1
  z_tool=$(on_path fallocate) || { echo "no fallocate" >"$TMP/zero.err"; return 1; }
  "$z_tool" --punch-hole --offset 0 --length "$z_size" "$1" 2>"$TMP/zero.err"
}

# Writes the mapped ranges of the (decompressed) image read from stdin onto a zeroed disk: the
# first MiB to $TMP/head (written last, as write_body does), each range with GNU dd at its
# offset, the zeros between them read and dropped, the zeros after the last one read (the
# whole-image hash needs every byte) and dropped. Every mapped byte also goes to
# $TMP/mapped.fifo, whose sha256 must equal the map's. One pipe, large blocks; a cancel stops
# the range being written (its dd, in $TMP/dd.pid) and the ranges after it.
write_mapped() { # disk
  exec 3>"$TMP/mapped.fifo"
  printf '%s\n' "$KILN_IMAGE_MAP" >"$TMP/map"
  pos=-1
  m_rc=0
  while read -r m_at m_len _ <&4; do
    [ -n "$m_at" ] || continue
    [ -e "$TMP/ended" ] && { m_rc=1; break; }
    if [ "$pos" = -1 ]; then
      "$DD" bs=1M count=1 iflag=fullblock status=none 2>"$TMP/dd.err" | $TEE /proc/self/fd/3 >"$TMP/head" || { m_rc=1; break; }
      pos=$(wc -c <"$TMP/head" | tr -d ' ')
      m_len=$((m_len - pos))
      m_at=$pos
      [ "$m_len" -gt 0 ] || continue
    fi
    "$DD" bs=1M iflag=fullblock,skip_bytes,count_bytes skip=$((m_at - pos)) count="$m_len" status=none 2>>"$TMP/dd.err" | $TEE /proc/self/fd/3 |
      sh -c 'echo $$ >"$1"; exec "$2" of="$3" bs=1M iflag=fullblock oflag=seek_bytes seek="$4" conv=notrunc status=none 2>>"$5"' sh "$TMP/dd.pid" "$DD" "$1" "$m_at" "$TMP/dd.err" || { m_rc=1; break; }
    pos=$((m_at + m_len))
  done 4<"$TMP/map"
  exec 3>&-
  [ "$m_rc" = 0 ] || return 1
  "$DD" of=/dev/null bs=1M status=none 2>>"$TMP/dd.err" || return 1
  [ -b "$1" ] && sync
  return 0
}

deploy_image() {
  disk=$(target_disk) || exit 1
  [ -n "${KILN_IMAGE_URL:-}" ] || fail "no image in the instructions"
  log "writing ${KILN_IMAGE_SIZE:-?} bytes (${KILN_IMAGE_FORMAT:-raw}) to $disk"
  # A compressed image's size on the disk is known only at the end: progress then has no total.
  total=0
  [ "$(decompressor)" = cat ] && total=${KILN_IMAGE_SIZE:-0}
  mapped=0
  if can_write_mapped; then
    t0=$(date +%s)
    if zero_disk "$disk" "$KILN_IMAGE_LOGICAL_SIZE"; then
      mapped=1
      total=$KILN_IMAGE_MAPPED_BYTES
      log "zeroed $disk without writing it (fallocate --punch-hole, $(($(date +%s) - t0)) s); writing only the $KILN_IMAGE_MAPPED_BYTES mapped bytes of the $KILN_IMAGE_LOGICAL_SIZE-byte image"
    else
      log "$disk cannot be zeroed without writing every byte ($(tail -n 1 "$TMP/zero.err" 2>/dev/null)): writing the whole image"
    fi
  fi
  if [ "$mapped" = 0 ]; then
    clear_disk_labels "$disk" "$(size_of "$disk")" || fail "clearing the partition table of $disk before writing failed: $(tail -n 1 "$TMP/dd.err")"
  fi
  start=$(sectors_written "$disk")
  rm -f "$TMP/image.fifo" "$TMP/mapped.fifo" "$TMP/fetch.err" "$TMP/dd.pid" && mkfifo "$TMP/image.fifo"
  # The checksum is of the bytes as delivered (before decompression), like Kiln's, computed
  # while they are written: the image is read once, never stored in the ramdisk.
  sha256sum <"$TMP/image.fifo" >"$TMP/sum" &
  sum_pid=$!
  writer_fn=write_body
  if [ "$mapped" = 1 ]; then
    writer_fn=write_mapped
    mkfifo "$TMP/mapped.fifo"
    sha256sum <"$TMP/mapped.fifo" >"$TMP/mapped.sum" &
    mapped_pid=$!
  fi
  (
    # No decompressor stage for raw images: every extra pipe costs a copy and context switches.
    if [ "$(decompressor)" = cat ]; then
      stream_image | $TEE "$TMP/image.fifo" | $writer_fn "$disk"
    else
      stream_image | $TEE "$TMP/image.fifo" | $(decompressor) | $writer_fn "$disk"
    fi
    echo $? >"$TMP/dd.rc"
  ) &
  writer=$!
  # Its own output: a sleeping watcher must not hold the agent's stdout open after the end.
  watch_progress "$writer" "$disk" "$start" "$TMP/dd.pid" 0 "$total" write >/dev/null 2>&1 &
  watcher=$!
  wait "$writer"
  kill "$watcher" 2>/dev/null
  wait "$sum_pid"
  [ "$mapped" = 1 ] && wait "$mapped_pid"
  if [ -e "$TMP/ended" ]; then
    echo "kiln-agent: the run ended in Kiln while the image was being written (cancelled?); stopped, the disk was left without a partition table" >&2
    exit 1
  fi
  [ -s "$TMP/fetch.err" ] && fail "downloading the image from ${KILN_IMAGE_URL%%\?*} failed: $(cat "$TMP/fetch.err") — the disk was left without a partition table"
  [ "$(cat "$TMP/dd.rc" 2>/dev/null || echo 1)" = 0 ] || fail "writing the image to $disk failed: $(tail -n 1 "$TMP/dd.err") — the disk was left without a partition table"
  head_bytes=$(wc -c <"$TMP/head" | tr -d ' ')
  if [ -b "$disk" ]; then written=$(($(disk_bytes "$disk" "$start" "") + head_bytes)); else written=$(($(size_of "$disk") < 1048576 ? head_bytes : $(size_of "$disk"))); fi
  [ "$total" -gt 0 ] && written=$total
  # Mapped: the whole image is on the disk (the rest reads zero).
  [ "$mapped" = 1 ] && written=$KILN_IMAGE_LOGICAL_SIZE total=$KILN_IMAGE_LOGICAL_SIZE
  progress "$written" "$total" verify
  got=$(cut -d' ' -f1 "$TMP/sum")
  [ "$got" = "${KILN_IMAGE_SHA256:-}" ] || fail "checksum mismatch: expected ${KILN_IMAGE_SHA256:-?}, got $got — the image was corrupted on the way or in storage; the disk was left without a partition table, so it does not boot"
  # What went to the disk, range by range, is what the map says: a map that does not fit these
  # bytes (or a slip in cutting the stream) would leave a disk unlike the image.
  if [ "$mapped" = 1 ]; then
    got_mapped=$(cut -d' ' -f1 "$TMP/mapped.sum")
    [ "$got_mapped" = "$KILN_IMAGE_MAPPED_SHA256" ] || fail "the mapped ranges written do not match the image's block map: sha256 expected $KILN_IMAGE_MAPPED_SHA256, got ${got_mapped:-none} — the disk was left without a partition table, so it does not boot"
  fi
  # Only now the image's first MiB: from here on the disk boots what was written.
  dd if="$TMP/head" of="$disk" bs=1M conv=notrunc,fsync 2>"$TMP/dd.err" || fail "writing the first MiB of the image to $disk failed: $(tail -n 1 "$TMP/dd.err") — the disk was left without a partition table"
  sync
  if [ "$mapped" = 1 ]; then
    log "wrote the $KILN_IMAGE_MAPPED_BYTES mapped bytes of the $KILN_IMAGE_LOGICAL_SIZE-byte image to $disk (the rest reads zero), its first MiB last; sha256 of the delivered image and of the mapped bytes match"
  else
    log "wrote $written bytes to $disk, its first MiB last; sha256 of the delivered image matches"
  fi
  [ -n "${KILN_CLOUD_INIT_SEED:-}" ] && seed_cloud_init "$disk"
  printf '{"bytes":%s,"sha256":"%s"}' "${KILN_IMAGE_SIZE:-0}" "$got" >"$TMP/done"
  post "$BASE/done" "application/json" "$TMP/done" || fail "could not report done"
}

# Tells the written system's cloud-init where this run's seed is, as MAAS's curtin does for
# its datasource: /etc/cloud/cloud.cfg.d/99-kiln.cfg in the root file system (the ext4
# partition that has /etc/cloud). The installed system's first boot then reads user-data and
# meta-data from Kiln (NoCloud over HTTP) and calls the run's done URL. manual_cache_clean
# keeps later boots on what that boot cached: once the run has ended the seed URL answers 404,
# and cloud-init must not take that for a new instance (new host keys, lost hostname).
seed_cloud_init() { # disk
  [ -b "$1" ] || { log "$1 is not a block device: no cloud-init seed written"; return 0; }
  name=${1##*/}
  blockdev --rereadpt "$1" 2>"$TMP/rereadpt.err" || log "re-reading the partition table of $1: $(tail -n 1 "$TMP/rereadpt.err")"
  # ext4's metadata checksums ask the crypto API for crc32c by name: loaded first, explicitly.
  modprobe -q crc32c_generic 2>/dev/null
  modprobe -q ext4 2>/dev/null
  mnt="$TMP/root"
  mkdir -p "$mnt"
  tries=0
  parts=""
  # The kernel adds the partitions' devices a moment after the re-read.
  while [ -z "$parts" ] && [ "$tries" -lt 20 ]; do
    for p in /sys/block/"$name"/"$name"*; do [ -e "$p/partition" ] && parts="$parts ${p##*/}"; done
    [ -n "$parts" ] || { sleep 0.5; tries=$((tries + 1)); }
  done
  for p in $parts; do
    [ -b "$DEV/$p" ] || continue
    mount -t ext4 "$DEV/$p" "$mnt" 2>/dev/null || continue
    if [ -d "$mnt/etc/cloud" ]; then
      mkdir -p "$mnt/etc/cloud/cloud.cfg.d"
      {
        echo "# Written by Kiln's deploy agent for deployment ${KILN_DEPLOYMENT_ID:-?}: cloud-init reads this"
        echo "# run's NoCloud seed (user-data, meta-data) from Kiln on first boot."
        echo "datasource_list: [NoCloud, None]"
        echo "datasource:"
        echo "  NoCloud:"
        echo "    seedfrom: ${KILN_CLOUD_INIT_SEED}"
        echo "manual_cache_clean: true"
      } >"$mnt/etc/cloud/cloud.cfg.d/99-kiln.cfg"
      sync
      umount "$mnt"
      log "cloud-init seed written to /dev/$p (/etc/cloud/cloud.cfg.d/99-kiln.cfg): the installed system reads this run's user-data from Kiln on first boot"
      return 0
    fi
    umount "$mnt"
  done
  fail "the image was written and verified, but none of its partitions (${parts:-none found}) is an ext4 file system with /etc/cloud: Kiln cannot hand cloud-init its seed. Deploy an image with cloud-init (its root on ext4), or deploy without a cloud-init template"
}

# quick: discard where the disk supports it (instant on SSDs), clear the signatures and the
# first and last 64 MiB, where partition tables, boot sectors and RAID/LVM metadata live.
# full: also zero every byte, reporting progress as it goes. Each disk goes into the erase
# record Kiln keeps on the lease.
wipe_disks() {
  if [ -n "${KILN_DISK:-}" ]; then disks=$(target_disk) || exit 1; else
    disks=""
    for d in /sys/block/*; do
      n=${d##*/}
      case "$n" in loop* | ram* | sr* | fd* | zram* | dm-*) continue ;; esac
      disks="$disks $DEV/$n"
    done
  fi
  [ -n "$disks" ] || fail "no disk found on this machine"
  mode=${KILN_WIPE_MODE:-quick}
  erased=""
  # Progress counts over all disks, so it only grows from one disk to the next.
  all=0
  for disk in $disks; do
    [ -e "$disk" ] || fail "disk $disk not found"
    all=$((all + $(size_of "$disk")))
  done
  base=0
  for disk in $disks; do
    size=$(size_of "$disk")
    log "wiping $disk ($size bytes, $mode)"
    method=""
    blkdiscard "$disk" >/dev/null 2>&1 && method="discard, "
    wipefs -a "$disk" >/dev/null 2>&1 && method="${method}signatures, "
    if [ "$mode" = full ]; then
      start=$(sectors_written "$disk")
      # conv=notrunc: a plain file (tests) keeps its size; a block device has none to lose.
      dd if=/dev/zero of="$disk" bs=4M count=$(((size + 4194303) / 4194304)) conv=fsync,notrunc 2>"$TMP/dd.err" &
      writer=$!
      echo "$writer" >"$TMP/dd.pid"
      watch_progress "$writer" "$disk" "$start" "$TMP/dd.pid" "$base" "$all" wipe >/dev/null 2>&1 &
      watcher=$!
      wait "$writer"
      rc=$?
      kill "$watcher" 2>/dev/null
      # dd stops with "no space left" at the end of a block device: that is the end, not an error.
      if [ "$rc" != 0 ] && ! grep -q "No space left" "$TMP/dd.err"; then fail "zeroing $disk failed: $(tail -n 1 "$TMP/dd.err")"; fi
      method="${method}every byte zeroed"
    else
      dd if=/dev/zero of="$disk" bs=1M count=64 conv=fsync,notrunc 2>/dev/null || fail "could not write to $disk"
      if [ "$size" -gt $((128 * 1048576)) ]; then
        dd if=/dev/zero of="$disk" bs=1M count=64 seek=$((size / 1048576 - 64)) conv=fsync,notrunc 2>/dev/null || true
      fi
      method="${method}first and last 64 MiB zeroed"
    fi
    # A plain file standing in for a disk (tests) keeps its size, as a disk would.
    [ -b "$disk" ] || truncate -s "$size" "$disk" 2>/dev/null || true
    base=$((base + size))
    progress "$base" "$all" wipe
    erased="$erased${erased:+,}{\"disk\":\"${disk##*/}\",\"sizeBytes\":$size,\"method\":\"$method\"}"
  done
  printf '{"erased":[%s]}' "$erased" >"$TMP/done"
  post "$BASE/done" "application/json" "$TMP/done" || fail "could not report done"
}

# tus 1.0 against Kiln's upload endpoint with the run's token. Prints the HTTP status (000
# when the server could not be reached); the headers land in $TMP/tus.h, the body in $TMP/tus.b.
tus() { # method url [curl arguments]
  m=$1
  u=$2
  shift 2
  if [ "$m" = HEAD ]; then set -- -I "$@"; else set -- -X "$m" "$@"; fi
  : >"$TMP/tus.h"
  : >"$TMP/tus.b"
  curl -sS --connect-timeout 10 --speed-limit 1 --speed-time 60 -D "$TMP/tus.h" -o "$TMP/tus.b" -w '%{http_code}' \
    -H "Tus-Resumable: 1.0.0" -H "Authorization: $KILN_UPLOAD_AUTH" "$@" "$u" 2>"$TMP/tus.err" || true
}

tus_header() { # name (lower case) → the last value of that header in $TMP/tus.h
  tr -d '\r' <"$TMP/tus.h" | awk -F': *' -v n="$1" 'tolower($1) == n { v = $2 } END { print v }'
}

# A person-readable reason from Kiln's JSON error body (or its first line).
tus_reason() { # status
  msg=$(sed -n 's/.*"message":"\([^"]*\)".*/\1/p' "$TMP/tus.b" | head -n 1)
  [ -n "$msg" ] || msg=$(head -c 300 "$TMP/tus.b" | head -n 1)
  [ -n "$msg" ] || msg=$(tail -n 1 "$TMP/tus.err" 2>/dev/null)
  echo "HTTP $1: $msg"
}

backoff() { # attempt
  _delay=$(retry_delay "$1") && sleep "$_delay"
}

# Creates the upload (length deferred: the compressed size is known only at the end) and
# prints its URL. A creation whose answer was lost is found again from Kiln's refusal of a second.
tus_create() {
  tries=0
  origin=$(printf '%s' "$KILN_UPLOAD_URL" | sed 's#^\([a-z]*://[^/]*\).*#\1#')
  while :; do
    code=$(tus POST "$KILN_UPLOAD_URL" -H "Upload-Defer-Length: 1" -H "Content-Length: 0")
    case "$code" in
      201)
        loc=$(tus_header location)
        case "$loc" in http*) echo "$loc" ;; /*) echo "$origin$loc" ;; *) echo "${KILN_UPLOAD_URL%/}/${loc##*/}" ;; esac
        return 0 ;;
      409)
        loc=$(grep -o '/api/uploads/[0-9a-f]*' "$TMP/tus.b" | head -n 1)
        if [ "$tries" -gt 0 ] && [ -n "$loc" ]; then echo "$origin$loc"; return 0; fi
        tus_reason "$code" >"$TMP/tus.fail"
        return 1 ;;
      5?? | 000) ;;
      *) tus_reason "$code" >"$TMP/tus.fail"; return 1 ;;
    esac
    tries=$((tries + 1))
    backoff "$tries" || { tus_reason "$code" >"$TMP/tus.fail"; return 1; }
  done
}

# Sends one chunk file at an upload offset; the last one also declares the upload's length.
# After a failed PATCH, HEAD says how much of the chunk the server kept: the rest is sent
# from there (tus keeps a partial PATCH), so nothing is sent twice and nothing is skipped.
# (sh has no local variables: these are t_-prefixed so the caller's survive.)
tus_send() { # url chunk-file offset [final-length]
  t_url=$1
  t_file=$2
  t_at=$3
  t_final=${4:-}
  t_tries=0
  t_ask=0
  while :; do
    t_n=$(wc -c <"$t_file" | tr -d ' ')
    if [ "$t_ask" = 1 ]; then
      t_code=$(tus HEAD "$t_url")
      case "$t_code" in
        200 | 204)
          t_so=$(tus_header upload-offset)
          t_so=${t_so:--1}
          [ -n "$(tus_header upload-length)" ] && declared=1
          if [ "$t_so" = $((t_at + t_n)) ] && { [ -z "$t_final" ] || [ "$declared" = 1 ]; }; then return 0; fi
          if [ "$t_so" -lt "$t_at" ] || [ "$t_so" -gt $((t_at + t_n)) ]; then
            echo "the server holds $t_so bytes, outside this chunk ($t_at to $((t_at + t_n)))" >"$TMP/tus.fail"
            return 1
          fi
          if [ "$t_so" -gt "$t_at" ]; then
            tail -c +$((t_so - t_at + 1)) "$t_file" >"$t_file.rest" && mv "$t_file.rest" "$t_file"
            t_at=$t_so
            t_n=$(wc -c <"$t_file" | tr -d ' ')
          fi
          t_ask=0 ;;
        4??) tus_reason "$t_code" >"$TMP/tus.fail"; return 1 ;;
        *)
          t_tries=$((t_tries + 1))
          backoff "$t_tries" || { tus_reason "$t_code" >"$TMP/tus.fail"; return 1; }
          continue ;;
      esac
    fi
    if [ -n "$t_final" ] && [ "$declared" != 1 ]; then set -- -H "Upload-Length: $t_final"; else set --; fi
    t_code=$(tus PATCH "$t_url" -H "Content-Type: application/offset+octet-stream" -H "Upload-Offset: $t_at" -H "Expect:" "$@" -T "$t_file")
    case "$t_code" in
      204) return 0 ;;
      409 | 5?? | 000) ;;
      *) tus_reason "$t_code" >"$TMP/tus.fail"; return 1 ;;
    esac
    t_tries=$((t_tries + 1))
    log "upload interrupted at byte $t_at ($(tus_reason "$t_code")); asking Kiln where to resume (attempt $t_tries)"
    backoff "$t_tries" || { tus_reason "$t_code" >"$TMP/tus.fail"; return 1; }
    t_ask=1
  done
}

# Reads the disk in chunks, each compressed on its own (zstd frames, or gzip members, in a
# row are one valid stream), so the ramdisk holds one chunk at a time and a lost connection
# costs at most a chunk. Kiln verifies what it stored against the sha256 reported at the end.
capture_disk() {
  disk=$(target_disk) || exit 1
  [ -n "${KILN_UPLOAD_URL:-}" ] && [ -n "${KILN_UPLOAD_AUTH:-}" ] || fail "no upload URL in the instructions"
  command -v curl >/dev/null 2>&1 || fail "capturing needs curl in the ramdisk"
  if [ -b "$disk" ]; then size=$(disk_size "${disk##*/}"); else size=$(wc -c <"$disk" | tr -d ' '); fi
  [ "$size" -gt 0 ] || fail "disk ${disk##*/} is empty (0 bytes)"
  if command -v zstd >/dev/null 2>&1; then compress="zstd -q -3 -T0 -c"; name=zstd; else compress="gzip -1 -c"; name=gzip; fi
  per=$(((${KILN_CAPTURE_CHUNK_MIB:-32} + 3) / 4))
  chunks=$(((size + per * 4194304 - 1) / (per * 4194304)))
  upload=$(tus_create) || fail "Kiln refused the capture upload: $(cat "$TMP/tus.fail")"
  log "capturing $disk ($size bytes) in $chunks chunks of $((per * 4)) MiB, compressed with $name, to $upload"
  rm -f "$TMP/hash.fifo" && mkfifo "$TMP/hash.fifo"
  sha256sum <"$TMP/hash.fifo" >"$TMP/sum" &
  hasher=$!
  exec 3>"$TMP/hash.fifo"
  declared=0
  i=0
  sent=0
  last=$(date +%s)
  progress 0 "$size" capture
  while [ "$i" -lt "$chunks" ]; do
    rm -f "$TMP/read.err"
    { dd if="$disk" bs=4M skip=$((i * per)) count="$per" 2>"$TMP/dd.err" || echo x >"$TMP/read.err"; } | $compress >"$TMP/chunk" ||
      fail "compressing the disk with $name failed"
    [ -e "$TMP/read.err" ] && fail "reading $disk failed: $(tail -n 1 "$TMP/dd.err")"
    n=$(wc -c <"$TMP/chunk" | tr -d ' ')
    cat "$TMP/chunk" >&3
    final=""
    [ $((i + 1)) = "$chunks" ] && final=$((sent + n))
    tus_send "$upload" "$TMP/chunk" "$sent" "$final" || fail "uploading the captured disk failed at byte $sent: $(cat "$TMP/tus.fail")"
    # n is the whole chunk, also when tus_send resumed it part-way.
    sent=$((sent + n))
    i=$((i + 1))
    now=$(date +%s)
    if [ $((now - last)) -ge "${KILN_PROGRESS_INTERVAL:-5}" ]; then
      at=$((i * per * 4194304))
      progress $((at < size ? at : size)) "$size" capture
      last=$now
    fi
  done
  exec 3>&-
  wait "$hasher"
  sum=$(cut -d' ' -f1 "$TMP/sum")
  progress "$size" "$size" capture
  log "sent $sent bytes ($name) for $size bytes of disk, sha256 $sum"
  # Kiln verifies the stored bytes (202 while it does); the run is done when they match.
  printf '{"bytes":%s,"sha256":"%s"}' "$sent" "$sum" >"$TMP/done"
  tries=0
  waited=0
  while :; do
    code=$(curl -sS -o "$TMP/tus.b" -w '%{http_code}' -H "Content-Type: application/json" --data-binary "@$TMP/done" "$BASE/done" 2>"$TMP/tus.err")
    case "$code" in
      200) return 0 ;;
      202)
        waited=$((waited + 3))
        [ "$waited" -lt "${KILN_VERIFY_WAIT:-7200}" ] || fail "Kiln did not finish verifying the captured disk within ${KILN_VERIFY_WAIT:-7200} seconds"
        sleep 3 ;;
      5?? | 000)
        tries=$((tries + 1))
        backoff "$tries" || fail "could not report done: $(tus_reason "$code")" ;;
      *)
        # Kiln has already failed the run with this reason.
        echo "kiln-agent: $(tus_reason "$code")" >&2
        exit 1 ;;
    esac
  done
}

fetch "$BASE/agent.env" "$TMP/agent.env" || { echo "kiln-agent: cannot fetch instructions from $BASE" >&2; exit 1; }
# shellcheck disable=SC1091
. "$TMP/agent.env"
# Commissioning is the inventory: without it the run has nothing to show. Other actions go on.
inventory_ok=1
inventory || inventory_ok=0
case "$KILN_ACTION" in
  deploy_image) deploy_image ;;
  wipe_disk) wipe_disks ;;
  capture_disk) capture_disk ;;
  commission)
    # Once more before giving up: Kiln may have been restarting.
    [ "$inventory_ok" = 1 ] || { sleep 5; inventory; } || fail "could not report the inventory to Kiln"
    echo '{}' >"$TMP/done"
    post "$BASE/done" "application/json" "$TMP/done" || log "could not report done (the inventory is recorded)"
    echo "kiln-agent: commissioned: the hardware is reported to Kiln" >&2 ;;
  *) fail "this agent version cannot do ${KILN_ACTION} yet" ;;
esac
# Done (a failure has exited above). Kiln says what the machine does next: "poweroff" after a
# wipe whose host Kiln cannot switch off (Wake-on-LAN only wakes), and after commissioning. The ramdisk's init names the
# file (KILN_THEN_FILE) and does it once the agent has ended; run anywhere else, nothing happens.
if [ "${KILN_THEN:-reboot}" = poweroff ] && [ -n "${KILN_THEN_FILE:-}" ]; then echo poweroff >"$KILN_THEN_FILE"; fi
rm -rf "$TMP"
