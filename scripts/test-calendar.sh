#!/usr/bin/env bash
# Runs the unit and integration tests with the system clock moved (libfaketime), to find
# tests and code that depend on today's date: once in another month, once on a month's last
# day late in the evening, once on 29 February. Not part of `npm test` (it runs the suite
# three times); run it after touching anything that counts days or months.
#   bash scripts/test-calendar.sh [vitest args…]
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v faketime >/dev/null; then
  echo "test-calendar: installing Debian's faketime…"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq faketime >/dev/null
fi
# The embedded PostgreSQL the harness starts inherits the fake clock, so SQL now() agrees.
unset DATABASE_URL
status=0
for when in "2027-03-15 10:00:00" "2027-04-30 23:40:00" "2028-02-29 23:50:00"; do
  printf '\n== vitest with the clock at %s UTC\n' "$when"
  # -f: the clock keeps running from that moment, so timeouts and waits behave normally.
  TZ=UTC faketime -f "@$when" npx vitest run "$@" || status=1
done
exit $status
