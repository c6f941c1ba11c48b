# Disks: which disk a run works on, its size, and the progress of a writer on it.

disk_size() { # name → bytes
  sectors=$(cat "/sys/block/$1/size" 2>/dev/null || echo 0)
  echo $((sectors * 512))
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

# Size in bytes of a disk, or of a plain file standing in for one (tests).
size_of() { # disk
  if [ -b "$1" ]; then disk_size "${1##*/}"; else wc -c <"$1" | tr -d ' '; fi
}
