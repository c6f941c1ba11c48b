# capture_disk: read the disk in compressed chunks and upload them to Kiln through tus.

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
