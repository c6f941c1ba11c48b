#!/bin/sh
# Kiln deploy agent, first version. The deploy ramdisk (next issue) runs it with the kernel
# arguments kiln.url, kiln.mac and kiln.token exported as KILN_URL, KILN_MAC, KILN_TOKEN; it
# fetches its instructions from Kiln, reports the machine's inventory, does its action
# (deploy an image, wipe the disks, capture a disk) while reporting progress, and reports done or failed
# with a reason a person can act on. POSIX sh with busybox tools: wget (or curl; capture
# needs curl), dd, sha256sum, gzip/xz/zstd when the image is compressed.
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
  post "$BASE/progress" "application/json" "$TMP/progress" || true
}

disk_size() { # name → bytes
  sectors=$(cat "/sys/block/$1/size" 2>/dev/null || echo 0)
  echo $((sectors * 512))
}

inventory() {
  cores=$(grep -c '^processor' /proc/cpuinfo 2>/dev/null || echo 1)
  mem_kb=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo 2>/dev/null || echo 0)
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
    nics="$nics${nics:+,}{\"mac\":\"$mac\",\"name\":\"$name\",\"link\":$link}"
  done
  printf '{"cpuCores":%s,"memoryMb":%s,"disks":[%s],"nics":[%s]}' "$cores" $((mem_kb / 1024)) "$disks" "$nics" >"$TMP/inventory"
  post "$BASE/inventory" "application/json" "$TMP/inventory" || log "could not report the inventory"
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

written_bytes() { # disk start-sectors
  if [ -b "$1" ]; then
    echo $((($(sectors_written "$1") - $2) * 512))
  else
    wc -c <"$1" 2>/dev/null | tr -d ' ' || echo 0
  fi
}

# Image bytes delivered so far: what the hashing process has read (/proc/<pid>/io rchar), so
# a compressed image reports against its own size, not the larger disk it expands to.
delivered_bytes() { # hasher-pid disk start-sectors
  n=$([ -n "$1" ] && awk '/^rchar:/ { print $2 }' "/proc/$1/io" 2>/dev/null)
  if [ -n "$n" ]; then echo "$n"; else written_bytes "$2" "$3"; fi
}

# Reports progress every interval while the writer (a background job) runs.
watch_progress() { # writer-pid hasher-pid disk start-sectors total phase
  while kill -0 "$1" 2>/dev/null; do
    sleep "${KILN_PROGRESS_INTERVAL:-5}"
    kill -0 "$1" 2>/dev/null || break
    progress "$(delivered_bytes "$2" "$3" "$4")" "$5" "$6"
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
    # shellcheck disable=SC2086
    curl -fsS --connect-timeout 10 --speed-limit 1 --speed-time 60 $range \
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
    if [ "$tries" -gt "${KILN_FETCH_RETRIES:-30}" ]; then
      echo "gave up after $tries attempts at byte $got: $(tail -n 1 "$TMP/fetch.stderr")" >"$TMP/fetch.err"
      return 1
    fi
    delay=$((tries < 5 ? tries : 5))
    log "download interrupted at byte $got ($(tail -n 1 "$TMP/fetch.stderr")); resuming from there in ${delay}s (attempt $tries)"
    sleep "$delay"
  done
}

# busybox sh runs its own applet for a bare `tee` whatever PATH says; the ramdisk's GNU tee
# (by path) writes in large blocks, which keeps hashing-while-writing from throttling the
# stream (128 MiB: 49 s with busybox tee, 13 s with GNU tee under QEMU TCG).
TEE=tee
[ -x /usr/bin/tee ] && TEE=/usr/bin/tee

deploy_image() {
  disk=$(target_disk) || exit 1
  [ -n "${KILN_IMAGE_URL:-}" ] || fail "no image in the instructions"
  log "writing ${KILN_IMAGE_SIZE:-?} bytes (${KILN_IMAGE_FORMAT:-raw}) to $disk"
  if [ "${KILN_WIPE_FIRST:-0}" = 1 ]; then wipefs -a "$disk" >/dev/null 2>&1 || true; fi
  start=$(sectors_written "$disk")
  rm -f "$TMP/image.fifo" "$TMP/fetch.err" && mkfifo "$TMP/image.fifo"
  # The checksum is of the bytes as delivered (before decompression), like Kiln's, computed
  # while they are written: the image is read once, never stored in the ramdisk.
  sha256sum <"$TMP/image.fifo" >"$TMP/sum" &
  sum_pid=$!
  (
    # No decompressor stage for raw images: every extra pipe costs a copy and context switches.
    if [ "$(decompressor)" = cat ]; then
      stream_image | $TEE "$TMP/image.fifo" | dd of="$disk" bs=4M conv=fsync 2>"$TMP/dd.err"
    else
      stream_image | $TEE "$TMP/image.fifo" | $(decompressor) | dd of="$disk" bs=4M conv=fsync 2>"$TMP/dd.err"
    fi
    echo $? >"$TMP/dd.rc"
  ) &
  writer=$!
  # Its own output: a sleeping watcher must not hold the agent's stdout open after the end.
  watch_progress "$writer" "$sum_pid" "$disk" "$start" "${KILN_IMAGE_SIZE:-0}" write >/dev/null 2>&1 &
  watcher=$!
  wait "$writer"
  kill "$watcher" 2>/dev/null
  wait "$sum_pid"
  [ -s "$TMP/fetch.err" ] && fail "downloading the image from ${KILN_IMAGE_URL%%\?*} failed: $(cat "$TMP/fetch.err")"
  [ "$(cat "$TMP/dd.rc" 2>/dev/null || echo 1)" = 0 ] || fail "writing the image to $disk failed: $(tail -n 1 "$TMP/dd.err")"
  progress "${KILN_IMAGE_SIZE:-0}" "${KILN_IMAGE_SIZE:-0}" verify
  got=$(cut -d' ' -f1 "$TMP/sum")
  [ "$got" = "${KILN_IMAGE_SHA256:-}" ] || fail "checksum mismatch: expected ${KILN_IMAGE_SHA256:-?}, got $got — the image was corrupted on the way or in storage; the disk holds a bad copy"
  sync
  log "wrote $(written_bytes "$disk" "$start") bytes to $disk; sha256 of the delivered image matches"
  printf '{"bytes":%s,"sha256":"%s"}' "${KILN_IMAGE_SIZE:-0}" "$got" >"$TMP/done"
  post "$BASE/done" "application/json" "$TMP/done" || fail "could not report done"
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
  for disk in $disks; do
    [ -e "$disk" ] || fail "disk $disk not found"
    if [ -b "$disk" ]; then size=$(disk_size "${disk##*/}"); else size=$(wc -c <"$disk" | tr -d ' '); fi
    log "wiping $disk ($size bytes, $mode)"
    method=""
    blkdiscard "$disk" >/dev/null 2>&1 && method="discard, "
    wipefs -a "$disk" >/dev/null 2>&1 && method="${method}signatures, "
    if [ "$mode" = full ]; then
      start=$(sectors_written "$disk")
      # conv=notrunc: a plain file (tests) keeps its size; a block device has none to lose.
      dd if=/dev/zero of="$disk" bs=4M count=$(((size + 4194303) / 4194304)) conv=fsync,notrunc 2>"$TMP/dd.err" &
      writer=$!
      watch_progress "$writer" "" "$disk" "$start" "$size" wipe >/dev/null 2>&1 &
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
    progress "$size" "$size" wipe
    erased="$erased${erased:+,}{\"disk\":\"${disk##*/}\",\"sizeBytes\":$size,\"method\":\"$method\"}"
  done
  printf '{"erased":[%s]}' "$erased" >"$TMP/done"
  post "$BASE/done" "application/json" "$TMP/done" || fail "could not report done"
}

capture_disk() {
  disk=$(target_disk) || exit 1
  [ -n "${KILN_CAPTURE_URL:-}" ] || fail "no upload URL in the instructions"
  command -v curl >/dev/null 2>&1 || fail "capturing needs curl in the ramdisk (wget cannot stream an upload)"
  if [ -b "$disk" ]; then size=$(disk_size "${disk##*/}"); else size=$(wc -c <"$disk" | tr -d ' '); fi
  # zstd where the ramdisk has it (fast, and decompressed on the fly by a later deploy); else gzip.
  if command -v zstd >/dev/null 2>&1; then compress="zstd -q -3 -T0 -c"; name=zstd; else compress="gzip -1 -c"; name=gzip; fi
  log "capturing $disk ($size bytes), compressed with $name"
  # Kiln hashes what arrives and answers when the version is stored; the run is then done.
  dd if="$disk" bs=4M 2>/dev/null | $compress | curl -fsS -o "$TMP/capture.out" -X POST -H "Content-Type: application/octet-stream" -H "X-Kiln-Source-Size: $size" -T - "$KILN_CAPTURE_URL" ||
    fail "uploading the captured disk failed"
}

fetch "$BASE/agent.env" "$TMP/agent.env" || { echo "kiln-agent: cannot fetch instructions from $BASE" >&2; exit 1; }
# shellcheck disable=SC1091
. "$TMP/agent.env"
inventory
case "$KILN_ACTION" in
  deploy_image) deploy_image ;;
  wipe_disk) wipe_disks ;;
  capture_disk) capture_disk ;;
  *) fail "this agent version cannot do ${KILN_ACTION} yet" ;;
esac
rm -rf "$TMP"
