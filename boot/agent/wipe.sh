# wipe_disk: erase the disks and report what was done to each.

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
