#!/usr/bin/env bash
# Runs on the lab's WireGuard gateway: fetches the peers and the nftables rules Kiln renders
# (GET /api/v1/vpn/gateway/wireguard.conf and nftables.conf, with the gateway token) and applies
# what changed: `wg syncconf` with the gateway's own [Interface] section prepended (sessions of
# unchanged peers stay up), `nft -f` (one transaction: a file that fails to load leaves the
# previous rules in place). Run it every 30 s from a systemd timer, or every minute from cron;
# docs/lab-access.md ("WireGuard gateway") has the units.
#
#   KILN_URL=https://kiln.lab.example vpn-gateway-sync.sh            # pull over HTTPS
#   vpn-gateway-sync.sh --from-dir /srv/kiln-vpn                      # or read KILN_VPN_GATEWAY_DIR
#
# Settings (environment; defaults in brackets):
#   KILN_URL                  Kiln's base URL (not needed with --from-dir)
#   KILN_VPN_TOKEN_FILE       file holding KILN_VPN_GATEWAY_TOKEN [/etc/kiln-vpn/token]
#   KILN_VPN_INTERFACE        the WireGuard interface [wg0]
#   KILN_VPN_INTERFACE_CONF   the gateway's [Interface] section: PrivateKey, ListenPort [/etc/kiln-vpn/interface.conf]
#   KILN_VPN_STATE_DIR        last applied files [/var/lib/kiln-vpn]
#   KILN_VPN_RUN_DIR          ETags of what is applied now; on tmpfs so a reboot re-applies [/run/kiln-vpn]
#   WG, NFT                   the commands [wg, nft] (e.g. "ip netns exec lab wg" for a gateway in a namespace)
# Exit status: 0 when the gateway runs what Kiln serves (changed or not); non-zero with a message
# on stderr when a file could not be fetched or applied (the previous peers or rules stay).
set -euo pipefail

FROM_DIR=""
if [[ "${1:-}" == "--from-dir" ]]; then
  FROM_DIR=${2:?"--from-dir needs a directory"}
elif [[ -n "${1:-}" ]]; then
  echo "usage: $0 [--from-dir DIR]" >&2
  exit 2
fi

TOKEN_FILE=${KILN_VPN_TOKEN_FILE:-/etc/kiln-vpn/token}
IFACE=${KILN_VPN_INTERFACE:-wg0}
IFACE_CONF=${KILN_VPN_INTERFACE_CONF:-/etc/kiln-vpn/interface.conf}
STATE_DIR=${KILN_VPN_STATE_DIR:-/var/lib/kiln-vpn}
RUN_DIR=${KILN_VPN_RUN_DIR:-/run/kiln-vpn}
read -r -a WG_CMD <<<"${WG:-wg}"
read -r -a NFT_CMD <<<"${NFT:-nft}"

fail() {
  echo "vpn-gateway-sync: $*" >&2
  exit 1
}

[[ -r "$IFACE_CONF" ]] || fail "cannot read the gateway's [Interface] section $IFACE_CONF (PrivateKey = …, ListenPort = 51820)"
grep -q '^\[Interface\]' "$IFACE_CONF" || fail "$IFACE_CONF has no [Interface] line"
mkdir -p "$STATE_DIR" "$RUN_DIR"
chmod 700 "$RUN_DIR"
umask 077
WORK=$(mktemp -d "$RUN_DIR/sync.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# fetch NAME MARKER: new content in $WORK/NAME when it changed since it was last applied;
# returns 1 when unchanged, exits when it cannot be fetched or is not what Kiln renders.
fetch() {
  local name=$1 marker=$2 etag_file="$RUN_DIR/$1.etag" code
  if [[ -n "$FROM_DIR" ]]; then
    # Kiln's worker writes the peers as wireguard-peers.conf (the URL's wireguard.conf).
    local src="$FROM_DIR/${name/#wireguard.conf/wireguard-peers.conf}"
    [[ -r "$src" ]] || fail "cannot read $src"
    cp "$src" "$WORK/$name" || fail "cannot copy $src"
    if [[ -e "$etag_file" ]] && cmp -s "$WORK/$name" "$STATE_DIR/$name"; then return 1; fi
  else
    [[ -n "${KILN_URL:-}" ]] || fail "set KILN_URL (Kiln's base URL), or use --from-dir"
    [[ -r "$TOKEN_FILE" ]] || fail "cannot read the gateway token file $TOKEN_FILE"
    # The token goes in a header file, not on curl's command line (which other users can read in ps).
    printf 'Authorization: Bearer %s\n' "$(tr -d '[:space:]' <"$TOKEN_FILE")" >"$WORK/headers"
    if [[ -s "$etag_file" && -e "$STATE_DIR/$name" ]]; then
      printf 'If-None-Match: %s\n' "$(cat "$etag_file")" >>"$WORK/headers"
    fi
    code=$(curl -sS --max-time 30 -H "@$WORK/headers" -D "$WORK/$name.head" -o "$WORK/$name" -w '%{http_code}' \
      "${KILN_URL%/}/api/v1/vpn/gateway/$name") || fail "could not reach ${KILN_URL%/}/api/v1/vpn/gateway/$name"
    case "$code" in
      304) return 1 ;;
      200) ;;
      *) fail "GET /api/v1/vpn/gateway/$name answered $code: $(head -c 500 "$WORK/$name")" ;;
    esac
    tr -d '\r' <"$WORK/$name.head" | sed -n 's/^[Ee][Tt][Aa][Gg]: *//p' | tail -n 1 >"$WORK/$name.etag"
  fi
  grep -q "$marker" "$WORK/$name" || fail "$name is not Kiln's gateway file (no \"$marker\"): a proxy's error page?"
  return 0
}

# Records what is now applied: the file, and its ETag (or, from a directory, that it was applied).
applied() {
  local name=$1
  mv -f "$WORK/$name" "$STATE_DIR/$name"
  if [[ -s "$WORK/$name.etag" ]]; then mv -f "$WORK/$name.etag" "$RUN_DIR/$name.etag"; else : >"$RUN_DIR/$name.etag"; fi
}

apply_peers() {
  # Kiln never holds the gateway's private key: its [Interface] comes from this machine.
  { cat "$IFACE_CONF"; echo; cat "$1"; } >"$WORK/wg-full.conf"
  "${WG_CMD[@]}" syncconf "$IFACE" "$WORK/wg-full.conf" || fail "wg syncconf $IFACE refused the peers; the previous ones stay"
}

apply_rules() {
  "${NFT_CMD[@]}" -c -f "$1" || fail "nft refused the rules (check); the previous ones stay"
  "${NFT_CMD[@]}" -f "$1" || fail "nft -f failed; the previous rules stay (one transaction)"
}

# Unchanged in Kiln, but the interface or the table was reset here (wg-quick restarted, nft flush):
# apply the last files again.
peers_drifted() {
  [[ -e "$STATE_DIR/wireguard.conf" ]] || return 1
  ! diff -q <("${WG_CMD[@]}" show "$IFACE" peers | sort) <(sed -n 's/^PublicKey = //p' "$STATE_DIR/wireguard.conf" | sort) >/dev/null
}
rules_drifted() {
  [[ -e "$STATE_DIR/nftables.conf" ]] || return 1
  ! "${NFT_CMD[@]}" list table inet kiln_vpn >/dev/null 2>&1
}

changed=()
if fetch wireguard.conf "^# Kiln's WireGuard peers"; then
  apply_peers "$WORK/wireguard.conf"
  applied wireguard.conf
  changed+=("peers")
elif peers_drifted; then
  apply_peers "$STATE_DIR/wireguard.conf"
  changed+=("peers (again: the interface had others)")
fi
if fetch nftables.conf "^table inet kiln_vpn"; then
  apply_rules "$WORK/nftables.conf"
  applied nftables.conf
  changed+=("rules")
elif rules_drifted; then
  apply_rules "$STATE_DIR/nftables.conf"
  changed+=("rules (again: the table was gone)")
fi
if ((${#changed[@]})); then (IFS=,; echo "vpn-gateway-sync: applied ${changed[*]}"); fi
exit 0
