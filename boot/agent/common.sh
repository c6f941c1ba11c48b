#!/bin/sh
# Kiln's deploy agent. The deploy ramdisk's init (boot/ramdisk/init) fetches it from
# /boot/<mac>/<token>/agent with the kernel arguments kiln.url, kiln.mac and kiln.token exported
# as KILN_URL, KILN_MAC, KILN_TOKEN, and runs it with sh. It fetches this run's instructions
# (agent.env), reports the machine's inventory, then does the run's action while reporting
# progress and log lines: deploy_image (stream the image to the disk, only its mapped ranges
# when Kiln has a block map, its first MiB last once the sha256 matched, then the cloud-init
# seed), wipe_disk (quick or full, with an erase record), capture_disk (read the disk in
# compressed chunks and upload them through tus) or commission (the inventory is the result).
# It reports done or failed with a reason a person can act on, and leaves "poweroff" in
# KILN_THEN_FILE when Kiln asks for it. POSIX sh with busybox and the ramdisk's tools: curl (or
# wget; capture needs curl), GNU dd and tee, fallocate, wipefs, blkdiscard, ipmitool,
# sha256sum, gzip/xz/zstd.
#
# Kept as one file per action in boot/agent/ and served joined (boot/agent/agent-script.ts),
# so a machine makes one request and runs one script. This part: the run's settings and the
# reporting every action uses.
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


# Seconds to wait before retry N of a request (1, 2, … then 5); fails past KILN_FETCH_RETRIES.
retry_delay() { # attempt
  [ "$1" -le "${KILN_FETCH_RETRIES:-30}" ] && echo $(($1 < 5 ? $1 : 5))
}
