# deploy_image: stream the image to the disk, check it, then hand cloud-init its seed.

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
