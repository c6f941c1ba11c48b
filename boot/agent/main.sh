# The run: fetch the instructions, report the inventory, do the action, say what comes next.

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
