# Commissioning: what the machine is (the inventory every run reports first; for a
# commission run it is the result).

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
