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

log() {
  printf '%s\n' "$*" >"$TMP/log"
  post "$BASE/log" "text/plain" "$TMP/log" || true
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

# Reports progress every interval while the writer (a background job) runs.
watch_progress() { # writer-pid disk start-sectors total phase
  while kill -0 "$1" 2>/dev/null; do
    sleep "${KILN_PROGRESS_INTERVAL:-5}"
    kill -0 "$1" 2>/dev/null || break
    progress "$(written_bytes "$2" "$3")" "$4" "$5"
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

deploy_image() {
  disk=$(target_disk) || exit 1
  [ -n "${KILN_IMAGE_URL:-}" ] || fail "no image in the instructions"
  log "writing ${KILN_IMAGE_SIZE:-?} bytes (${KILN_IMAGE_FORMAT:-raw}) to $disk"
  if [ "${KILN_WIPE_FIRST:-0}" = 1 ]; then wipefs -a "$disk" >/dev/null 2>&1 || true; fi
  start=$(sectors_written "$disk")
  rm -f "$TMP/image.fifo" && mkfifo "$TMP/image.fifo"
  # The checksum is of the bytes as delivered (before decompression), like Kiln's.
  sha256sum <"$TMP/image.fifo" | cut -d' ' -f1 >"$TMP/sum" &
  sum_pid=$!
  (
    { fetch "$KILN_IMAGE_URL" - || echo $? >"$TMP/fetch.rc"; } | tee "$TMP/image.fifo" | $(decompressor) | dd of="$disk" bs=4M conv=fsync 2>"$TMP/dd.err"
    echo $? >"$TMP/dd.rc"
  ) &
  writer=$!
  # Its own output: a sleeping watcher must not hold the agent's stdout open after the end.
  watch_progress "$writer" "$disk" "$start" "${KILN_IMAGE_SIZE:-0}" write >/dev/null 2>&1 &
  watcher=$!
  wait "$writer"
  kill "$watcher" 2>/dev/null
  wait "$sum_pid"
  [ -s "$TMP/fetch.rc" ] && fail "downloading the image failed (exit $(cat "$TMP/fetch.rc")) from ${KILN_IMAGE_URL%%\?*}"
  [ "$(cat "$TMP/dd.rc" 2>/dev/null || echo 1)" = 0 ] || fail "writing the image to $disk failed: $(tail -n 1 "$TMP/dd.err")"
  progress "${KILN_IMAGE_SIZE:-0}" "${KILN_IMAGE_SIZE:-0}" verify
  got=$(cat "$TMP/sum")
  [ "$got" = "${KILN_IMAGE_SHA256:-}" ] || fail "checksum mismatch: expected ${KILN_IMAGE_SHA256:-?}, got $got"
  sync
  printf '{"bytes":%s,"sha256":"%s"}' "${KILN_IMAGE_SIZE:-0}" "$got" >"$TMP/done"
  post "$BASE/done" "application/json" "$TMP/done" || fail "could not report done"
}

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
  for disk in $disks; do
    [ -e "$disk" ] || fail "disk $disk not found"
    log "wiping $disk"
    # Discard (instant on SSDs) where the disk supports it; always clear the signatures and
    # the first and last 64 MiB, where partition tables and boot sectors live.
    blkdiscard "$disk" >/dev/null 2>&1 || true
    wipefs -a "$disk" >/dev/null 2>&1 || true
    size=$(disk_size "${disk##*/}")
    dd if=/dev/zero of="$disk" bs=1M count=64 conv=fsync 2>/dev/null || fail "could not write to $disk"
    if [ "$size" -gt $((128 * 1048576)) ]; then
      dd if=/dev/zero of="$disk" bs=1M count=64 seek=$((size / 1048576 - 64)) conv=fsync 2>/dev/null || true
    fi
    progress "$size" "$size" wipe
  done
  printf '{}' >"$TMP/done"
  post "$BASE/done" "application/json" "$TMP/done" || fail "could not report done"
}

capture_disk() {
  disk=$(target_disk) || exit 1
  [ -n "${KILN_CAPTURE_URL:-}" ] || fail "no upload URL in the instructions"
  command -v curl >/dev/null 2>&1 || fail "capturing needs curl in the ramdisk (wget cannot stream an upload)"
  if [ -b "$disk" ]; then size=$(disk_size "${disk##*/}"); else size=$(wc -c <"$disk" | tr -d ' '); fi
  log "capturing $disk ($size bytes), compressed with gzip"
  # Kiln hashes what arrives and answers when the version is stored; the run is then done.
  dd if="$disk" bs=4M 2>/dev/null | gzip -1 | curl -fsS -o "$TMP/capture.out" -X POST -H "Content-Type: application/octet-stream" -H "X-Kiln-Source-Size: $size" -T - "$KILN_CAPTURE_URL" ||
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
