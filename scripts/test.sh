#!/usr/bin/env bash
# `npm test`: everything, in the order that fails fastest. Installs what it needs from
# Debian when missing (scripts/ensure-deps.sh), so a bare machine can run it.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "system packages (slapd, ldap-utils, chromium)"
bash scripts/ensure-deps.sh

step "node $(node --version)"
node -e 'const [maj] = process.versions.node.split(".").map(Number); if (maj < 22) { console.error("Kiln needs Node >= 22 (the node@24 dependency provides it; run through npm)"); process.exit(1) }'

step "type check"
npx tsc --noEmit -p .

step "unit and integration tests (vitest, real PostgreSQL, slapd, SMTP)"
npx vitest run

step "production build"
npx next build

step "end-to-end tests (Playwright + Chromium against npm start)"
npx playwright test
